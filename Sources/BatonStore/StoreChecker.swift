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
                "SELECT id, definition_name, definition_version, status, last_event_id, snapshot FROM workflows ORDER BY id"
            ) { row in (row.text(0), row.text(1), Int(row.integer(2)), row.text(3), row.integer(4), row.blob(5)) }
        }
        let registry = DefinitionRegistry(store: store)
        var report = Report()
        for (id, name, version, status, lastEventID, blob) in rows {
            report.checked += 1
            let problem = await check(id: id, name: name, version: version, status: status, lastEventID: lastEventID,
                                      snapshot: blob, registry: registry)
            if let problem { report.problems.append(problem) }
            progress(id, problem)
        }
        return report
    }

    private func check(id: String, name: String, version: Int, status: String, lastEventID: Int64, snapshot: [UInt8],
                       registry: DefinitionRegistry) async -> Problem? {
        func problem(_ message: String) -> Problem { Problem(workflowID: id, message: message) }
        let state: WorkflowState
        do { state = try SnapshotCodec.decode(snapshot) } catch {
            return problem("the snapshot does not decode: \(error.message)\(error.cause.map { " (\($0))" } ?? "")")
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
