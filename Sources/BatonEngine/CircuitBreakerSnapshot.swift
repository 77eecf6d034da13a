import BatonCore

/// The persisted state of one circuit breaker (its policy comes from definitions and configuration).
public struct CircuitBreakerSnapshot: Hashable, Sendable {
    /// The breaker's key.
    public var key: String
    /// CLOSED, OPEN or HALF_OPEN.
    public var state: CircuitState
    /// Failures since the last success.
    public var consecutiveFailures: Int
    /// Outcomes of the most recent calls, oldest first (true: success), at most the policy's window.
    public var recent: [Bool]
    /// When the state last changed.
    public var changedAt: Instant?
    /// When it last opened (while OPEN).
    public var openedAt: Instant?
    /// Trial calls let through while HALF_OPEN.
    public var trials: Int

    /// Creates a snapshot.
    public init(
        key: String, state: CircuitState, consecutiveFailures: Int, recent: [Bool], changedAt: Instant?, openedAt: Instant?,
        trials: Int
    ) {
        self.key = key
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.recent = recent
        self.changedAt = changedAt
        self.openedAt = openedAt
        self.trials = trials
    }
}
