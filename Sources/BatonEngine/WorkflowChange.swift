import BatonCore

/// Everything one decision changes for one workflow.
public struct WorkflowChange: Sendable {
    /// The workflow.
    public var workflowID: String
    /// True for the decision that starts the workflow (inserts its row).
    public var isNew: Bool
    /// The state after the decision: the full snapshot when ``includesSnapshot``, otherwise only its
    /// summary fields (status, times, last event id) — a store that folds history tails keeps its
    /// older snapshot and reads the events after it.
    public var state: WorkflowState
    /// Whether ``state`` is the full snapshot to store (otherwise the store keeps its older snapshot,
    /// or for a new run the empty state at event 0, and reads fold the events after it).
    public private(set) var includesSnapshot = true
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
    /// Durations of activity attempts completed by this change (learned for ETAs).
    public var durationSamples: [ActivityDurationSample]
    /// The state of the circuit breakers this decision touched, as of the decision (written with it).
    public var circuitBreakers: [CircuitBreakerSnapshot] = []
    /// For a new run that reuses the id of a closed one: the id the closed run (row, history, signal
    /// dedupe) is moved to, in the same transaction, before the new run is inserted.
    public var archiveClosedRunAs: String?

    /// Builds the change of one decision; with `includesSnapshot` false only the state's summary is kept
    /// (so the caller's state is not held while the change commits, and never copied on its next change).
    /// A new run without its snapshot is stored with the empty state before its first event.
    public init(state: WorkflowState, decision: Decision, isNew: Bool, includesSnapshot: Bool = true) {
        workflowID = state.workflowID
        self.isNew = isNew
        self.includesSnapshot = includesSnapshot
        self.state = includesSnapshot ? state : state.summary
        events = decision.events
        timersToStore = decision.timersToStore
        timersToDelete = decision.timersToDelete
        tasksToStore = decision.queuedTasks
        tasksToDelete = decision.releasedTasks
        durationSamples = decision.durationSamples
    }
}
