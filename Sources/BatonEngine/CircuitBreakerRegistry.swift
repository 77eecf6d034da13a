import BatonCore
import Synchronization

/// The circuit breakers shared by every workflow of a runtime, by `circuit_breaker` key.
///
/// CLOSED → OPEN after `failure_threshold` consecutive failures (or a `failure_rate` over the last
/// `window` calls) → HALF_OPEN once `reset_timeout` has passed, letting `half_open_max_calls` trial
/// calls through → CLOSED on a trial success, OPEN again on a trial failure. The state machine decides
/// admissions while deciding a workflow input, so each rejection or transition is recorded in that
/// workflow's history; breaker state itself lives in memory (a restart starts every breaker CLOSED).
///
/// ```swift
/// let breakers = CircuitBreakerRegistry(policies: ["notion": CircuitBreakerPolicy(failureThreshold: 3)])
/// breakers.observe { transition in log.info("\(transition.key) \(transition.from) → \(transition.to)") }
/// ```
public final class CircuitBreakerRegistry: Sendable {
    struct Breaker {
        var state = CircuitState.closed
        var consecutiveFailures = 0
        var recent: [Bool] = []
        var changedAt: Instant?
        var openedAt: Instant?
        var trials = 0
        var policy: CircuitBreakerPolicy
    }

    private let defaults: [String: CircuitBreakerPolicy]
    private let breakers = Mutex<[String: Breaker]>([:])
    private let observers = Mutex<[@Sendable (CircuitBreakerTransition) -> Void]>([])

    /// Creates the registry; `policies` (server configuration) apply to keys a definition does not configure.
    public init(policies: [String: CircuitBreakerPolicy] = [:]) {
        defaults = policies
    }

    /// Calls `observer` with every transition (for metrics and logs), after it happened.
    public func observe(_ observer: @escaping @Sendable (CircuitBreakerTransition) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Whether a call through `key` may be dispatched now; an OPEN breaker past its reset timeout
    /// moves to HALF_OPEN (returned in `transitions`).
    public func admit(
        _ key: String, policy declared: CircuitBreakerPolicy?, now: Instant
    ) -> (allowed: Bool, transitions: [CircuitBreakerTransition]) {
        let result = breakers.withLock { breakers -> (Bool, [CircuitBreakerTransition]) in
            var breaker = breakers[key] ?? Breaker(policy: declared ?? defaults[key] ?? CircuitBreakerPolicy())
            if let declared { breaker.policy = declared }
            var transitions: [CircuitBreakerTransition] = []
            var allowed = true
            switch breaker.state {
            case .closed:
                allowed = true
            case .open:
                if let openedAt = breaker.openedAt, now >= openedAt + breaker.policy.resetTimeout {
                    transitions.append(Self.move(&breaker, to: .halfOpen, now: now, key: key))
                    breaker.trials = 1
                } else {
                    allowed = false
                }
            case .halfOpen:
                if breaker.trials < breaker.policy.halfOpenMaxCalls {
                    breaker.trials += 1
                } else if let changed = breaker.changedAt, now >= changed + breaker.policy.resetTimeout {
                    // Trials that never reported (abandoned attempts) must not hold the breaker forever.
                    breaker.trials = 1
                    breaker.changedAt = now
                } else {
                    allowed = false
                }
            }
            breakers[key] = breaker
            return (allowed, transitions)
        }
        notify(result.1)
        return result
    }

    /// Records the outcome of a dispatched call through `key` and returns the transitions it caused.
    public func record(
        _ key: String, policy declared: CircuitBreakerPolicy?, success: Bool, now: Instant
    ) -> [CircuitBreakerTransition] {
        let transitions = breakers.withLock { breakers -> [CircuitBreakerTransition] in
            var breaker = breakers[key] ?? Breaker(policy: declared ?? defaults[key] ?? CircuitBreakerPolicy())
            if let declared { breaker.policy = declared }
            var transitions: [CircuitBreakerTransition] = []
            breaker.recent.append(success)
            if breaker.recent.count > breaker.policy.window { breaker.recent.removeFirst(breaker.recent.count - breaker.policy.window) }
            if success {
                breaker.consecutiveFailures = 0
                if breaker.state != .closed {
                    transitions.append(Self.move(&breaker, to: .closed, now: now, key: key))
                    breaker.recent = [true]
                }
            } else {
                breaker.consecutiveFailures += 1
                let failures = breaker.recent.filter { !$0 }.count
                let rateTripped = breaker.policy.failureRate.map { rate in
                    breaker.recent.count >= breaker.policy.window
                        && Double(failures) / Double(breaker.recent.count) >= rate
                } ?? false
                switch breaker.state {
                case .closed:
                    if breaker.consecutiveFailures >= breaker.policy.failureThreshold || rateTripped {
                        transitions.append(Self.move(&breaker, to: .open, now: now, key: key))
                    }
                case .halfOpen:
                    transitions.append(Self.move(&breaker, to: .open, now: now, key: key))
                case .open:
                    break
                }
            }
            breakers[key] = breaker
            return transitions
        }
        notify(transitions)
        return transitions
    }

    /// Every breaker used so far, by key.
    public func list() -> [CircuitBreakerStatus] {
        breakers.withLock { breakers in
            breakers.keys.sorted().map { key in
                let breaker = breakers[key]!
                return CircuitBreakerStatus(
                    key: key, state: breaker.state, consecutiveFailures: breaker.consecutiveFailures,
                    changedAt: breaker.changedAt,
                    halfOpenAt: breaker.state == .open ? breaker.openedAt.map { $0 + breaker.policy.resetTimeout } : nil,
                    policy: breaker.policy)
            }
        }
    }

    /// Closes the breaker `key` and clears its counters. Throws `.notFound` for a key never used.
    @discardableResult
    public func reset(_ key: String, now: Instant) throws(BatonError) -> CircuitBreakerStatus {
        let transition = try breakers.withLock { (breakers: inout [String: Breaker]) throws(BatonError) -> CircuitBreakerTransition? in
            guard var breaker = breakers[key] else { throw BatonError(.notFound, "no circuit breaker '\(key)'") }
            var transition: CircuitBreakerTransition?
            if breaker.state != .closed { transition = Self.move(&breaker, to: .closed, now: now, key: key) }
            breaker.consecutiveFailures = 0
            breaker.recent = []
            breakers[key] = breaker
            return transition
        }
        notify(transition.map { [$0] } ?? [])
        return list().first { $0.key == key }!
    }

    private static func move(_ breaker: inout Breaker, to state: CircuitState, now: Instant, key: String) -> CircuitBreakerTransition {
        let transition = CircuitBreakerTransition(key: key, from: breaker.state, to: state, time: now)
        breaker.state = state
        breaker.changedAt = now
        breaker.trials = 0
        breaker.openedAt = state == .open ? now : nil
        if state == .closed { breaker.consecutiveFailures = 0 }
        return transition
    }

    private func notify(_ transitions: [CircuitBreakerTransition]) {
        guard !transitions.isEmpty else { return }
        let observers = self.observers.withLock { $0 }
        for transition in transitions { for observer in observers { observer(transition) } }
    }
}
