import BatonCore

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
    /// The longest gap allowed between heartbeats of the started attempt (the step's `heartbeat_timeout`).
    public var heartbeatTimeout: Interval?
    /// How long the started attempt may run (the step's `start_to_close_timeout`).
    public var startToCloseTimeout: Interval?
    /// The attempt's span as a W3C `traceparent` value (workers continue the run's trace under it).
    public var traceparent: String?

    /// Creates a task.
    public init(
        workflowID: String, step: String, attempt: Int, activity: String, taskQueue: String?, input: JSONValue,
        heartbeatDetails: JSONValue, scheduledAt: Instant, heartbeatTimeout: Interval? = nil,
        startToCloseTimeout: Interval? = nil, traceparent: String? = nil
    ) {
        self.traceparent = traceparent
        self.heartbeatTimeout = heartbeatTimeout
        self.startToCloseTimeout = startToCloseTimeout
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
