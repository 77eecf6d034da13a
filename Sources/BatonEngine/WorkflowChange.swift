import BatonCore

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
    /// Durations of activity attempts completed by this change (learned for ETAs).
    public var durationSamples: [ActivityDurationSample]
    /// For a new run that reuses the id of a closed one: the id the closed run (row, history, signal
    /// dedupe) is moved to, in the same transaction, before the new run is inserted.
    public var archiveClosedRunAs: String?

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
        durationSamples = decision.durationSamples
    }
}
