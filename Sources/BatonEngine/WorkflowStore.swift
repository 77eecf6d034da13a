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
    /// Loads every workflow that is not closed (recovery).
    func loadOpenWorkflows() async throws(BatonError) -> [StoredWorkflow]
    /// Events of a workflow with `id > afterEventID`, at most `limit`, in order.
    func history(_ workflowID: String, afterEventID: Int64, limit: Int) async throws(BatonError) -> [WorkflowEvent]
    /// Stores a definition version.
    func saveDefinition(_ record: DefinitionRecord) async throws(BatonError)
    /// All stored versions of the definition `name`, oldest first.
    func definitionVersions(_ name: String) async throws(BatonError) -> [DefinitionRecord]
}

/// Everything one decision changes for one workflow.
public struct WorkflowChange: Sendable {
    /// The workflow.
    public var workflowID: String
    /// True for the decision that starts the workflow (inserts its row).
    public var isNew: Bool
    /// The state after the decision (the snapshot).
    public var state: WorkflowState
    /// New events.
    public var events: [WorkflowEvent]
    /// Timers to insert or replace.
    public var timersToStore: [DurableTimer]
    /// Timer ids to delete.
    public var timersToDelete: [String]
    /// Activity tasks to insert (attempts waiting for an external executor).
    public var tasksToStore: [ActivityTask]
    /// Activity tasks to delete.
    public var tasksToDelete: [AttemptRef]

    /// Builds the change of one decision.
    public init(state: WorkflowState, decision: Decision, isNew: Bool) {
        workflowID = state.workflowID
        self.isNew = isNew
        self.state = state
        events = decision.events
        timersToStore = decision.timersToStore
        timersToDelete = decision.timersToDelete
        tasksToStore = decision.queuedTasks
        tasksToDelete = decision.releasedTasks
    }
}

/// A workflow as loaded from the store.
public struct StoredWorkflow: Sendable, Hashable {
    /// The snapshot.
    public var state: WorkflowState

    /// Creates a record.
    public init(state: WorkflowState) { self.state = state }
}

/// One stored definition version.
public struct DefinitionRecord: Sendable, Hashable, Codable {
    /// Definition name.
    public var name: String
    /// Version number, from 1.
    public var version: Int
    /// Canonical content used for "same content → same version".
    public var content: String
    /// The source text as registered.
    public var source: String
    /// Registration time.
    public var createdAt: Instant

    /// Creates a record.
    public init(name: String, version: Int, content: String, source: String, createdAt: Instant) {
        self.name = name
        self.version = version
        self.content = content
        self.source = source
        self.createdAt = createdAt
    }
}
