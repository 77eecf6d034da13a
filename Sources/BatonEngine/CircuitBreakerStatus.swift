import BatonCore

/// A circuit breaker as listed by ``WorkflowRuntime/circuitBreakers()``.
public struct CircuitBreakerStatus: Hashable, Sendable {
    /// The `circuit_breaker` key shared by every step (of every workflow) that names it.
    public var key: String
    /// The current state.
    public var state: CircuitState
    /// Consecutive failed calls (reset by a success).
    public var consecutiveFailures: Int
    /// When the state last changed (`nil` when it never did).
    public var changedAt: Instant?
    /// When an OPEN breaker lets trial calls through (`nil` unless OPEN).
    public var halfOpenAt: Instant?
    /// The policy in effect.
    public var policy: CircuitBreakerPolicy

    /// Creates a status.
    public init(
        key: String, state: CircuitState, consecutiveFailures: Int, changedAt: Instant?, halfOpenAt: Instant?,
        policy: CircuitBreakerPolicy
    ) {
        self.key = key
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.changedAt = changedAt
        self.halfOpenAt = halfOpenAt
        self.policy = policy
    }
}
