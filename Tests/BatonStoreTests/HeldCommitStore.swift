import BatonCore
import BatonEngine
import BatonStore
import Synchronization

/// A real SQLite store whose commits the test can hold open: while held, a commit waits before it
/// reaches SQLite (and the test is told), so every read path can be checked against a decision that
/// is made but not committed. It can also fail the next commits (a full disk) without touching SQLite.
final class HeldCommitStore: WorkflowStore {
    let inner: SQLiteWorkflowStore
    private struct Gate {
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
        var failures: [BatonError] = []
        var full: BatonError?
    }
    private let gate = Mutex(Gate())
    /// Yields once per commit that starts waiting at the gate.
    let heldCommits: AsyncStream<Void>
    private let heldContinuation: AsyncStream<Void>.Continuation

    init(_ inner: SQLiteWorkflowStore) {
        self.inner = inner
        (heldCommits, heldContinuation) = AsyncStream<Void>.makeStream()
    }

    /// Makes the next `count` commits fail with `error` (e.g. the disk is full) without reaching SQLite.
    func failNextCommits(_ count: Int, with error: BatonError) {
        gate.withLock { $0.failures += Array(repeating: error, count: count) }
    }

    /// Makes every commit fail with `error` until called with nil (a disk that stays full).
    func setFull(_ error: BatonError?) {
        gate.withLock { $0.full = error }
    }

    /// Makes later commits wait until ``release()``.
    func hold() { gate.withLock { $0.holding = true } }

    /// Lets every waiting and later commit through.
    func release() {
        let waiting = gate.withLock { gate in
            gate.holding = false
            defer { gate.held = [] }
            return gate.held
        }
        for continuation in waiting { continuation.resume() }
    }

    func commit(_ change: WorkflowChange, isolation: isolated (any Actor)?) async throws(BatonError) {
        // Whether this commit fails is decided when it arrives, before it waits at the gate.
        let failure = gate.withLock { $0.full ?? ($0.failures.isEmpty ? nil : $0.failures.removeFirst()) }
        await withCheckedContinuation(isolation: isolation) { (continuation: CheckedContinuation<Void, Never>) in
            let wait = gate.withLock { gate in
                if gate.holding { gate.held.append(continuation) }
                return gate.holding
            }
            if wait { heldContinuation.yield() } else { continuation.resume() }
        }
        if let failure { throw failure }
        try await inner.commit(change, isolation: isolation)
    }

    var foldsHistoryTails: Bool { inner.foldsHistoryTails }
    func loadWorkflow(_ workflowID: String) async throws(BatonError) -> StoredWorkflow? { try await inner.loadWorkflow(workflowID) }
    func loadOpenWorkflows() async throws(BatonError) -> [StoredWorkflow] { try await inner.loadOpenWorkflows() }
    func scanOpenWorkflows() async throws(BatonError) -> OpenWorkflowScan { try await inner.scanOpenWorkflows() }
    func history(_ workflowID: String, afterEventID: Int64, limit: Int) async throws(BatonError) -> [WorkflowEvent] {
        try await inner.history(workflowID, afterEventID: afterEventID, limit: limit)
    }
    func saveDefinition(_ record: DefinitionRecord) async throws(BatonError) { try await inner.saveDefinition(record) }
    func definitionVersions(_ name: String) async throws(BatonError) -> [DefinitionRecord] { try await inner.definitionVersions(name) }
    func activityDurations() async throws(BatonError) -> [String: ActivityDurationEstimate] { try await inner.activityDurations() }
}
