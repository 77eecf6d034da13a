import BatonCore

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
