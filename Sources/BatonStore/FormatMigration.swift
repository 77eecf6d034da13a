import BatonCodec
import BatonCore
import BatonEngine

/// Converts stored rows between history formats, a page of rows at a time (bounded memory however
/// large the database is).
enum FormatMigration {
    /// Rows read per page.
    static let pageSize = 1000

    /// Re-encodes every format-1 (JSON) event payload and snapshot as format 2 (protobuf).
    static func convertToProtobuf(_ connection: SQLiteConnection) throws(BatonError) {
        var after: (String, Int64) = ("", -1)
        while true {
            let rows = try connection.query(
                """
                SELECT workflow_id, event_id, payload FROM events
                WHERE (workflow_id, event_id) > (?, ?) AND substr(payload, 1, 1) = ?
                ORDER BY workflow_id, event_id LIMIT ?
                """, [.text(after.0), .integer(after.1), .blob([EventCodec.legacyJSONVersion]), .integer(Int64(pageSize))]
            ) { row in (row.text(0), row.integer(1), row.blob(2)) }
            for (workflowID, eventID, payload) in rows {
                let kind: EventKind
                do { kind = try EventCodec.decode(payload) } catch {
                    throw BatonError(.storage, "event \(eventID) of '\(workflowID)' cannot be read for conversion: \(error.message)")
                }
                try connection.run(
                    "UPDATE events SET payload = ? WHERE workflow_id = ? AND event_id = ?",
                    [.blob(try EventCodec.encode(kind)), .text(workflowID), .integer(eventID)])
            }
            guard let last = rows.last else { break }
            after = (last.0, last.1)
        }
        var afterID = ""
        while true {
            let rows = try connection.query(
                "SELECT id, snapshot FROM workflows WHERE id > ? AND substr(snapshot, 1, 1) = ? ORDER BY id LIMIT ?",
                [.text(afterID), .blob([SnapshotCodec.legacyJSONVersion]), .integer(Int64(pageSize))]
            ) { row in (row.text(0), row.blob(1)) }
            for (workflowID, snapshot) in rows {
                let state: WorkflowState
                do { state = try SnapshotCodec.decode(snapshot) } catch {
                    throw BatonError(.storage, "the snapshot of '\(workflowID)' cannot be read for conversion: \(error.message)")
                }
                try connection.run(
                    "UPDATE workflows SET snapshot = ? WHERE id = ?", [.blob(try SnapshotCodec.encode(state)), .text(workflowID)])
            }
            guard let last = rows.last else { break }
            afterID = last.0
        }
    }
}
