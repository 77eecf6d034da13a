/// A circuit breaker's thresholds, declared under `circuit_breakers:` (or in server configuration).
///
/// ```yaml
/// circuit_breakers:
///   notion: { failure_threshold: 5, reset_timeout: 30s, half_open_max_calls: 1, failure_rate: 0.5, window: 20 }
/// ```
public struct CircuitBreakerPolicy: Hashable, Sendable {
    /// Consecutive failures that open the breaker.
    public var failureThreshold: Int
    /// Time in OPEN before trial calls are let through.
    public var resetTimeout: Interval
    /// Trial calls allowed in HALF_OPEN.
    public var halfOpenMaxCalls: Int
    /// Failure ratio (0…1] over the last ``window`` calls that also opens the breaker; `nil` disables it.
    public var failureRate: Double?
    /// Number of most recent calls the failure rate is computed over (only once that many were made).
    public var window: Int

    /// Creates a policy (defaults: 5 failures, 30s, 1 trial call, no rate rule, window 20).
    public init(
        failureThreshold: Int = 5, resetTimeout: Interval = .seconds(30), halfOpenMaxCalls: Int = 1,
        failureRate: Double? = nil, window: Int = 20
    ) {
        self.failureThreshold = failureThreshold
        self.resetTimeout = resetTimeout
        self.halfOpenMaxCalls = halfOpenMaxCalls
        self.failureRate = failureRate
        self.window = window
    }
}
