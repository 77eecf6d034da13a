import BatonCore

/// The saga of a workflow that failed or was cancelled with `on_failure: compensate`: compensations
/// of completed steps run one at a time, in reverse completion order, each with its own retries.
public struct SagaState: Hashable, Sendable, Codable {
    /// Steps still to compensate, next first.
    public var remaining: [String]
    /// The step whose compensation is running or backing off.
    public var current: String?
    /// The current compensation attempt (0 before the first).
    public var attempt: Int = 0
    /// Whether the current attempt is handed to an executor (false while backing off).
    public var inFlight = false
    /// The evaluated input of the current compensation.
    public var input: JSONValue = .null
    /// Steps compensated so far, in order.
    public var compensated: [String] = []
    /// Steps whose compensation failed for good, in order.
    public var failed: [String] = []
    /// True when the saga was started by a cancel (it then closes as CANCELLED).
    public var cancelled: Bool

    /// Creates a saga over `remaining`.
    public init(remaining: [String], cancelled: Bool) {
        self.remaining = remaining
        self.cancelled = cancelled
    }

    /// The task step name of the compensation of `step` (`step.compensate`; step names contain no '.').
    public static func taskStep(for step: String) -> String { step + compensationSuffix }

    /// The compensated step of a compensation task step name, or `nil` for ordinary steps.
    public static func compensatedStep(ofTaskStep taskStep: String) -> String? {
        taskStep.hasSuffix(compensationSuffix) ? String(taskStep.dropLast(compensationSuffix.count)) : nil
    }

    static let compensationSuffix = ".compensate"
}
