import BatonCore
import BatonEngine

extension SQLiteWorkflowStore: WorkflowCatalog {
    /// Runs matching `filter`, newest first, after `cursor` (served by the status and definition indexes).
    public func listWorkflows(_ filter: WorkflowListFilter, after cursor: WorkflowListCursor?, limit: Int) async throws(BatonError)
        -> [WorkflowSummary] {
        var conditions: [String] = []
        var values: [SQLiteConnection.Value] = []
        if let status = filter.status {
            conditions.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if let definition = filter.definition {
            conditions.append("definition_name = ?")
            values.append(.text(definition))
        }
        if let after = filter.startedAfter {
            conditions.append("started_at >= ?")
            values.append(.integer(after.millisecondsSinceEpoch))
        }
        if let before = filter.startedBefore {
            conditions.append("started_at < ?")
            values.append(.integer(before.millisecondsSinceEpoch))
        }
        if let cursor {
            conditions.append("(started_at < ? OR (started_at = ? AND id < ?))")
            values += [.integer(cursor.startedAt.millisecondsSinceEpoch), .integer(cursor.startedAt.millisecondsSinceEpoch),
                       .text(cursor.workflowID)]
        }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        values.append(.integer(Int64(max(0, limit))))
        let bound = values
        let sql = """
            SELECT id, definition_name, definition_version, status, started_at, closed_at, last_event_id, run_id
            FROM workflows \(clause) ORDER BY started_at DESC, id DESC LIMIT ?
            """
        return try await readers.read { connection throws(BatonError) in
            try connection.query(sql, bound) { row throws(BatonError) in
                guard let status = WorkflowStatus(rawValue: row.text(3)) else {
                    throw BatonError(.storage, "workflow '\(row.text(0))' has an unknown status '\(row.text(3))'")
                }
                return WorkflowSummary(
                    workflowID: row.text(0), runID: row.isNull(7) ? nil : row.text(7), definition: DefinitionRef(name: row.text(1), version: Int(row.integer(2))),
                    status: status, startedAt: Instant(millisecondsSinceEpoch: row.integer(4)),
                    closedAt: row.isNull(5) ? nil : Instant(millisecondsSinceEpoch: row.integer(5)),
                    lastEventID: row.integer(6))
            }
        }
    }

    /// Every definition name with its latest version.
    public func latestDefinitions() async throws(BatonError) -> [DefinitionRef] {
        try await readers.read { connection throws(BatonError) in
            try connection.query("SELECT name, MAX(version) FROM definitions GROUP BY name ORDER BY name") { row in
                DefinitionRef(name: row.text(0), version: Int(row.integer(1)))
            }
        }
    }
}
