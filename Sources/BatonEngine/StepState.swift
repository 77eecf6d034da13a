import BatonCore

/// The state of one step within a workflow run, folded from history.
public struct StepState: Hashable, Sendable, Codable {
    /// Where a step is in its life.
    public enum Status: String, Hashable, Sendable, Codable {
        /// Not yet reached.
        case pending
        /// An attempt is scheduled but not started.
        case scheduled
        /// An attempt (or a wait/sleep) is running.
        case started
        /// Waiting for the retry backoff timer.
        case backoff
        /// Finished successfully.
        case completed
        /// Failed for good.
        case failed
        /// Skipped because `when` was false.
        case skipped

        /// Completed or skipped: dependents may proceed.
        public var isDone: Bool { self == .completed || self == .skipped }
        /// An attempt is scheduled or started.
        public var isInFlight: Bool { self == .scheduled || self == .started }
    }

    /// Where the step is.
    public var status: Status = .pending
    /// The current (or last) attempt number, 0 before the first.
    public var attempt: Int = 0
    /// The evaluated input of the current attempt (`null` before the first).
    public var input: JSONValue = .null
    /// The output once completed (for `wait_for_signal` steps: the signal payload); `null` before.
    public var output: JSONValue = .null
    /// The last failure of an attempt.
    public var lastFailure: ActivityFailure?
    /// The last heartbeat details, handed to the next attempt (`null` when none).
    public var heartbeatDetails: JSONValue = .null
    /// When the first attempt was scheduled.
    public var firstScheduledAt: Instant?
    /// When the current attempt was scheduled.
    public var scheduledAt: Instant?
    /// When the current attempt started.
    public var startedAt: Instant?
    /// When the step completed, failed for good or was skipped.
    public var finishedAt: Instant?

    /// Creates a pending step.
    public init() {}
}
