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

/// One attempt of an activity step, as handed to an executor.
public struct ActivityTask: Hashable, Sendable, Codable {
    /// The workflow run.
    public var workflowID: String
    /// The step.
    public var step: String
    /// Attempt number, starting at 1.
    public var attempt: Int
    /// Activity name, e.g. `builtin.echo`.
    public var activity: String
    /// Task queue of external workers, if any.
    public var taskQueue: String?
    /// The evaluated input.
    public var input: JSONValue
    /// Heartbeat details of the previous attempt (`null` when none).
    public var heartbeatDetails: JSONValue
    /// When this attempt was scheduled.
    public var scheduledAt: Instant

    /// Creates a task.
    public init(
        workflowID: String, step: String, attempt: Int, activity: String, taskQueue: String?, input: JSONValue,
        heartbeatDetails: JSONValue, scheduledAt: Instant
    ) {
        self.workflowID = workflowID
        self.step = step
        self.attempt = attempt
        self.activity = activity
        self.taskQueue = taskQueue
        self.input = input
        self.heartbeatDetails = heartbeatDetails
        self.scheduledAt = scheduledAt
    }

    /// `workflow_id/step/attempt`: stable across redelivery of the same attempt.
    public var idempotencyKey: String { "\(workflowID)/\(step)/\(attempt)" }
}

/// A durable timer of one workflow.
public struct DurableTimer: Hashable, Sendable, Codable {
    /// The workflow run.
    public var workflowID: String
    /// Timer id, unique within the workflow (see ``TimerPurpose/timerID(step:attempt:)``).
    public var timer: String
    /// When it fires.
    public var fireAt: Instant

    /// Creates a timer.
    public init(workflowID: String, timer: String, fireAt: Instant) {
        self.workflowID = workflowID
        self.timer = timer
        self.fireAt = fireAt
    }
}
