/// A circuit breaker's thresholds, declared under `circuit_breakers:`.
public struct CircuitBreakerPolicy: Hashable, Sendable {
    /// Consecutive failures that open the breaker.
    public var failureThreshold: Int
    /// Time in OPEN before trial calls are let through.
    public var resetTimeout: Interval
    /// Trial calls allowed in HALF_OPEN.
    public var halfOpenMaxCalls: Int

    /// Creates a policy (defaults: 5 failures, 30s, 1 trial call).
    public init(failureThreshold: Int = 5, resetTimeout: Interval = .seconds(30), halfOpenMaxCalls: Int = 1) {
        self.failureThreshold = failureThreshold
        self.resetTimeout = resetTimeout
        self.halfOpenMaxCalls = halfOpenMaxCalls
    }
}
