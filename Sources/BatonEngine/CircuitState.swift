/// The state of a circuit breaker.
public enum CircuitState: String, Hashable, Sendable, Codable {
    /// Calls pass; consecutive failures are counted.
    case closed = "CLOSED"
    /// Calls fail fast with `CircuitOpen` until the reset timeout has passed.
    case open = "OPEN"
    /// A limited number of trial calls pass; a success closes, a failure re-opens.
    case halfOpen = "HALF_OPEN"
}
