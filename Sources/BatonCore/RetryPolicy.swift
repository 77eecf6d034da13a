/// Temporal-compatible retry policy of a step (defaults: 1s initial interval, coefficient 2.0,
/// maximum interval 100× the initial interval, unlimited attempts).
public struct RetryPolicy: Hashable, Sendable, Codable {
    /// Delay before the second attempt.
    public var initialInterval: Interval
    /// Multiplier applied to the delay after each failed attempt (≥ 1).
    public var backoffCoefficient: Double
    /// Upper bound of the delay; `nil` means 100× ``initialInterval``.
    public var maximumInterval: Interval?
    /// Total attempts allowed, the first one included; 0 means unlimited.
    public var maximumAttempts: Int
    /// Failure types that are never retried.
    public var nonRetryableErrorTypes: [String]

    /// Creates a policy; every parameter has the Temporal default.
    public init(
        initialInterval: Interval = .seconds(1), backoffCoefficient: Double = 2.0,
        maximumInterval: Interval? = nil, maximumAttempts: Int = 0, nonRetryableErrorTypes: [String] = []
    ) {
        self.initialInterval = initialInterval
        self.backoffCoefficient = backoffCoefficient
        self.maximumInterval = maximumInterval
        self.maximumAttempts = maximumAttempts
        self.nonRetryableErrorTypes = nonRetryableErrorTypes
    }

    /// The effective cap on a single backoff delay.
    public var effectiveMaximumInterval: Interval {
        maximumInterval ?? Interval(milliseconds: initialInterval.milliseconds.multipliedReportingOverflow(by: 100).partialValue)
    }

    /// The wait after failed attempt number `attempt` (1-based) before the next one:
    /// `initial × coefficient^(attempt-1)`, capped at the maximum interval.
    public func delay(afterAttempt attempt: Int) -> Interval {
        let cap = Double(effectiveMaximumInterval.milliseconds)
        var delay = Double(initialInterval.milliseconds)
        var step = 1
        while step < attempt, delay < cap {
            delay *= backoffCoefficient
            step += 1
        }
        return Interval(milliseconds: Int64(min(delay, cap).rounded()))
    }

    /// Whether another attempt may follow failed attempt number `attempt` with error `type`.
    public func allowsRetry(afterAttempt attempt: Int, errorType: String, nonRetryable: Bool) -> Bool {
        if nonRetryable || nonRetryableErrorTypes.contains(errorType) { return false }
        return maximumAttempts == 0 || attempt < maximumAttempts
    }
}
