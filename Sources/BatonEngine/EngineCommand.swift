import BatonCore

/// A side effect decided by the state machine; the runtime performs it only after the decision is committed.
public enum EngineCommand: Hashable, Sendable {
    /// Hand an attempt to an executor.
    case dispatch(ActivityTask)
    /// Ask the executor of an attempt to stop (its result will be ignored).
    case cancelActivity(workflowID: String, step: String, attempt: Int)
    /// Arm a durable timer (replacing one with the same id).
    case startTimer(DurableTimer)
    /// Disarm a durable timer.
    case cancelTimer(workflowID: String, timer: String)
    /// The workflow closed with `status`.
    case workflowClosed(workflowID: String, status: WorkflowStatus)
}
