import BatonCore
import BatonStore
import Foundation

/// The storage ceiling of the engine benchmark: the rows one benchmark workflow writes (its row,
/// snapshot, events and duration samples, taken from a run the engine completed), written for as
/// many workflows as the benchmark ran, in as many changes per workflow and as many changes per
/// transaction as the engine's group commit made, with the same durability — by a minimal writer
/// with no engine logic (one thread, prepared statements, nothing decoded).
struct StorageCeiling {
    /// One stored event of the template workflow.
    struct EventRow {
        var type: String
        var time: Int64
        var payload: [UInt8]
    }

    let workflows: Int
    let changesPerWorkflow: Int
    let changesPerTransaction: Int
    let concurrency: Int
    let durability: Durability

    /// Writes the rows to a fresh database in `directory`; returns workflows per second.
    func run(template workflowID: String, from store: SQLiteWorkflowStore, directory: URL) throws -> Double {
        let (events, snapshot, definition) = try store.read { connection throws(BatonError) in
            let events = try connection.query(
                "SELECT type, time, payload FROM events WHERE workflow_id = ? ORDER BY event_id", [.text(workflowID)]
            ) { EventRow(type: $0.text(0), time: $0.integer(1), payload: $0.blob(2)) }
            let row = try connection.query(
                "SELECT snapshot, definition_name, snapshot_event_id = last_event_id FROM workflows WHERE id = ?",
                [.text(workflowID)]) { ($0.blob(0), $0.text(1), $0.integer(2) != 0) }
            return (events, row.first?.0 ?? [], row.first.map { ($0.1, $0.2) } ?? ("", false))
        }
        // Whether the engine's closing change rewrote the snapshot (else only the first change wrote one).
        let (definitionName, snapshotAtClose) = definition
        let path = directory.appendingPathComponent("ceiling.sqlite").path
        let connection = try SQLiteConnection(path: path)
        try SQLiteWorkflowStore.configure(connection, durability: durability)
        try Migrations.apply(to: connection, now: .epoch)

        // The template's events split into the engine's number of changes per workflow.
        let count = max(1, min(changesPerWorkflow, events.count))
        let groups: [ArraySlice<EventRow>] = (0..<count).map { index in
            events[(index * events.count / count)..<((index + 1) * events.count / count)]
        }
        // Changes in the order the engine interleaves them: a wave of `concurrency` workflows at a time.
        var order: [(workflow: Int, change: Int)] = []
        order.reserveCapacity(workflows * count)
        for wave in stride(from: 0, to: workflows, by: concurrency) {
            let members = wave..<min(workflows, wave + concurrency)
            for change in 0..<count { for workflow in members { order.append((workflow, change)) } }
        }

        let started = ContinuousClock.now
        var firstEventID = [Int64](repeating: 1, count: workflows)
        for batch in stride(from: 0, to: order.count, by: max(1, changesPerTransaction)) {
            try connection.transaction { connection throws(BatonError) in
                for (workflow, change) in order[batch..<min(order.count, batch + changesPerTransaction)] {
                    let id = "ceiling-\(workflow)"
                    let rows = groups[change]
                    let last = firstEventID[workflow] + Int64(rows.count) - 1
                    if change == 0 {
                        try connection.run(
                            """
                            INSERT INTO workflows(id, definition_name, definition_version, status, started_at, closed_at,
                                last_event_id, snapshot, snapshot_event_id) VALUES (?, ?, 1, 'RUNNING', ?, NULL, ?, ?, ?)
                            """, [.text(id), .text(definitionName), .integer(rows.first?.time ?? 0), .integer(last), .blob(snapshot),
                                  .integer(snapshotAtClose ? last : 0)])
                    } else if change == count - 1, snapshotAtClose {
                        try connection.run(
                            """
                            UPDATE workflows SET status = 'COMPLETED', closed_at = ?, last_event_id = ?, snapshot = ?,
                                snapshot_event_id = ? WHERE id = ? AND last_event_id = ?
                            """, [.integer(rows.last?.time ?? 0), .integer(last), .blob(snapshot), .integer(last), .text(id),
                                  .integer(firstEventID[workflow] - 1)])
                    } else {
                        let closing = change == count - 1
                        try connection.run(
                            "UPDATE workflows SET status = ?, closed_at = ?, last_event_id = ? WHERE id = ? AND last_event_id = ?",
                            [.text(closing ? "COMPLETED" : "RUNNING"), closing ? .integer(rows.last?.time ?? 0) : .null,
                             .integer(last), .text(id), .integer(firstEventID[workflow] - 1)])
                    }
                    var eventID = firstEventID[workflow]
                    for row in rows {
                        try connection.run(
                            "INSERT INTO events(workflow_id, event_id, type, time, payload) VALUES (?, ?, ?, ?, ?)",
                            [.text(id), .integer(eventID), .text(row.type), .integer(row.time), .blob(row.payload)])
                        if row.type == "StepCompleted" {
                            try connection.run(
                                """
                                INSERT INTO activity_durations(activity, samples, mean_ms) VALUES ('builtin.echo', 1, 0)
                                ON CONFLICT(activity) DO UPDATE SET samples = samples + 1, mean_ms = mean_ms + (0 - mean_ms) / MIN(samples + 1, 100)
                                """)
                        }
                        eventID += 1
                    }
                    firstEventID[workflow] = eventID
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        return Double(workflows) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
