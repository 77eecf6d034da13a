import BatonCore

/// Persistence the runtime needs. ``InMemoryWorkflowStore`` serves tests; BatonStore's SQLite store
/// serves production. Implementations must apply each ``WorkflowChange`` atomically and in call order.
public protocol WorkflowStore: Sendable {
    /// Durably applies `change` (events + snapshot + timers + tasks in one transaction) and returns
    /// once it is committed. A new workflow whose id exists fails with `.alreadyExists`.
    ///
    /// Runs on the caller's `isolation` up to the point where the change is queued, so changes
    /// submitted one after another from one actor commit in that order.
    func commit(_ change: WorkflowChange, isolation: isolated (any Actor)?) async throws(BatonError)
    /// Loads a workflow's definition reference and snapshot.
    func loadWorkflow(_ workflowID: String) async throws(BatonError) -> StoredWorkflow?
    /// Whether the store reads a state as its last stored snapshot plus the events after it, so a
    /// change may leave the snapshot out (``WorkflowChange/includesSnapshot``).
    var foldsHistoryTails: Bool { get }
    /// Loads every workflow that is not closed (recovery).
    func loadOpenWorkflows() async throws(BatonError) -> [StoredWorkflow]
    /// Loads every workflow that is not closed; a run whose rows cannot be decoded is reported in
    /// `unreadable` instead of failing the whole scan (one bad record never stops a recovery).
    func scanOpenWorkflows() async throws(BatonError) -> OpenWorkflowScan
    /// Events of a workflow with `id > afterEventID`, at most `limit`, in order.
    func history(_ workflowID: String, afterEventID: Int64, limit: Int) async throws(BatonError) -> [WorkflowEvent]
    /// Stores a definition version.
    func saveDefinition(_ record: DefinitionRecord) async throws(BatonError)
    /// All stored versions of the definition `name`, oldest first.
    func definitionVersions(_ name: String) async throws(BatonError) -> [DefinitionRecord]
    /// The learned per-activity duration estimates (each commit folds in its ``WorkflowChange/durationSamples``).
    func activityDurations() async throws(BatonError) -> [String: ActivityDurationEstimate]
    /// The persisted circuit breakers (each commit writes its ``WorkflowChange/circuitBreakers``).
    func circuitBreakers() async throws(BatonError) -> [CircuitBreakerSnapshot]
    /// Persists breaker states changed outside a decision (an operator's reset).
    func saveCircuitBreakers(_ snapshots: [CircuitBreakerSnapshot]) async throws(BatonError)
}

extension WorkflowStore {
    /// Stores keep every change's full snapshot unless they say otherwise.
    public var foldsHistoryTails: Bool { false }

    /// Stores whose records always decode report every open run as readable.
    public func scanOpenWorkflows() async throws(BatonError) -> OpenWorkflowScan {
        OpenWorkflowScan(workflows: try await loadOpenWorkflows())
    }

    /// Stores that do not learn durations report none (ETAs then use the default estimate).
    public func activityDurations() async throws(BatonError) -> [String: ActivityDurationEstimate] { [:] }

    /// Stores that do not persist breakers restore none (every breaker starts CLOSED).
    public func circuitBreakers() async throws(BatonError) -> [CircuitBreakerSnapshot] { [] }

    /// Stores that do not persist breakers ignore resets.
    public func saveCircuitBreakers(_ snapshots: [CircuitBreakerSnapshot]) async throws(BatonError) {}
}
