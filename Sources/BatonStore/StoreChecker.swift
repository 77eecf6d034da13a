import BatonCodec
import BatonCore
import BatonEngine

/// Verifies every run of a store (`baton store check`): its snapshot decodes, its history decodes
/// with contiguous event ids, its definition version exists, and folding its history gives exactly
/// its snapshot. Read-only: nothing is repaired or changed.
public struct StoreChecker {
    /// One run that failed a check.
    public struct Problem: Sendable, Hashable {
        /// The run's id.
        public var workflowID: String
        /// What is wrong.
        public var message: String
    }

    /// The outcome of a check.
    public struct Report: Sendable {
        /// Runs checked.
        public var checked = 0
        /// Runs that failed a check, in id order.
        public var problems: [Problem] = []
        /// Whether every run passed.
        public var isHealthy: Bool { problems.isEmpty }
    }

    private let store: SQLiteWorkflowStore

    /// Checks the runs of `store`.
    public init(store: SQLiteWorkflowStore) { self.store = store }

    /// Checks every run; `progress` is told each run's id and whether it passed.
    public func run(progress: (String, Problem?) -> Void = { _, _ in }) async throws(BatonError) -> Report {
        let rows = try store.read { connection throws(BatonError) in
            try connection.query(
                """
                SELECT id, snapshot, snapshot_event_id, last_event_id, definition_name, definition_version, status
                FROM workflows ORDER BY id
                """
            ) { row in (SQLiteWorkflowStore.SnapshotRow(row), row.text(4), Int(row.integer(5)), row.text(6)) }
        }
        let registry = DefinitionRegistry(store: store)
        var report = Report()
        for (row, name, version, status) in rows {
            report.checked += 1
            let id = row.id
            let problem = await check(row, name: name, version: version, status: status, registry: registry)
            if let problem { report.problems.append(problem) }
            progress(id, problem)
        }
        return report
    }

    private func check(_ row: SQLiteWorkflowStore.SnapshotRow, name: String, version: Int, status: String,
                       registry: DefinitionRegistry) async -> Problem? {
        let id = row.id
        let lastEventID = row.lastEventID
        func problem(_ message: String) -> Problem { Problem(workflowID: id, message: message) }
        do {
            _ = try SnapshotCodec.decode(row.snapshot)
        } catch {
            return problem("the snapshot does not decode: \(error.message)\(error.cause.map { " (\($0))" } ?? "")")
        }
        // The state every reader sees: the snapshot with the events after it folded in.
        let state: WorkflowState
        do {
            let store = self.store
            state = try await store.pooledRead { connection throws(BatonError) in try store.currentState(row, connection) }
        } catch {
            return problem("the stored state cannot be read: \(error.message)")
        }
        let definition: WorkflowDefinition
        do { (definition, _) = try await registry.definition(named: name, version: version) } catch {
            return problem("definition \(name) v\(version) cannot be loaded: \(error.message)")
        }
        let history: [WorkflowEvent]
        do { history = try await store.history(id, afterEventID: 0, limit: .max) } catch {
            return problem("the history does not decode: \(error.message)\(error.cause.map { " (\($0))" } ?? "")")
        }
        for (index, event) in history.enumerated() where event.id != Int64(index + 1) {
            return problem("event ids are not contiguous from 1: event \(index + 1) has id \(event.id)")
        }
        if state.lastEventID != lastEventID || Int64(history.count) != lastEventID {
            return problem("the snapshot is at event \(state.lastEventID), the row says \(lastEventID), the history has \(history.count) events")
        }
        if state.status.rawValue != status {
            return problem("the snapshot says \(state.status.rawValue), the row says \(status)")
        }
        var folded = WorkflowState(workflowID: id)
        for event in history { folded.apply(event, definition: definition) }
        if folded != state { return problem("fold(history) differs from the stored snapshot") }
        return nil
    }
}
