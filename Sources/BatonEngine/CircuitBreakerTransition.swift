import BatonCore

/// A state change of a circuit breaker, recorded in the history of the workflow whose call caused it
/// (or, for a manual reset, only reported to observers).
public struct CircuitBreakerTransition: Hashable, Sendable {
    /// The breaker key.
    public var key: String
    /// The state before.
    public var from: CircuitState
    /// The state after.
    public var to: CircuitState
    /// When it happened.
    public var time: Instant

    /// Creates a transition.
    public init(key: String, from: CircuitState, to: CircuitState, time: Instant) {
        self.key = key
        self.from = from
        self.to = to
        self.time = time
    }

    /// The history event recording this transition.
    public var event: EventKind {
        switch to {
        case .open: return .circuitOpened(key: key)
        case .halfOpen: return .circuitHalfOpened(key: key)
        case .closed: return .circuitClosed(key: key)
        }
    }
}
