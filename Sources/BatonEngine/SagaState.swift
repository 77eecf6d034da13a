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

    /// Writes this saga in the exact shape of its synthesized `Codable` encoding.
    public func write(to writer: inout JSONWriter) {
        writer.object { w in
            w.key("remaining"); w.array { w in for name in remaining { w.string(name) } }
            w.member("current", current) { $0.string($1) }
            w.key("attempt"); w.integer(attempt)
            w.key("inFlight"); w.bool(inFlight)
            w.key("input"); w.value(input)
            w.key("compensated"); w.array { w in for name in compensated { w.string(name) } }
            w.key("failed"); w.array { w in for name in failed { w.string(name) } }
            w.key("cancelled"); w.bool(cancelled)
        }
    }
}
