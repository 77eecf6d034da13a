import BatonCore
import Synchronization

/// The circuit breakers shared by every workflow of a runtime, by `circuit_breaker` key.
///
/// CLOSED → OPEN after `failure_threshold` consecutive failures (or a `failure_rate` over the last
/// `window` calls) → HALF_OPEN once `reset_timeout` has passed, letting `half_open_max_calls` trial
/// calls through → CLOSED on a trial success, OPEN again on a trial failure.
///
/// Breakers change only with a committed decision. A decision consults the breakers while it is
/// made and *reserves* its admissions and outcomes (each transition is an event in that workflow's
/// history); decisions made after it see its reservations. When the decision commits, the shard
/// confirms them and they become the committed state (listed, persisted, observed); when its commit
/// fails, they are cancelled and the breaker is as if the decision never happened. The committed
/// state is persisted with the decisions and restored at recovery (``restore(_:)``).
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

    /// What a decision did to a breaker.
    enum Operation {
        case admit(now: Instant)
        case record(success: Bool, now: Instant)
    }

    private struct Reservation {
        var token: Int
        var key: String
        var declared: CircuitBreakerPolicy?
        var operation: Operation
        var transitions: [CircuitBreakerTransition]
        var confirmed = false
    }

    private struct Ledger {
        var committed: [String: Breaker] = [:]
        /// Unconfirmed (and confirmed but not yet leading) reservations, in reservation order.
        var pending: [Reservation] = []
        var nextToken = 1
    }

    private let defaults: [String: CircuitBreakerPolicy]
    private let ledger = Mutex(Ledger())
    private let observers = Mutex<[@Sendable (CircuitBreakerTransition) -> Void]>([])

    /// Creates the registry; `policies` (server configuration) apply to keys a definition does not configure.
    public init(policies: [String: CircuitBreakerPolicy] = [:]) {
        defaults = policies
    }

    /// Calls `observer` with every committed transition (for metrics and logs), after its commit.
    public func observe(_ observer: @escaping @Sendable (CircuitBreakerTransition) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Whether a call through `key` may be dispatched now, as seen by a decision being made; an OPEN
    /// breaker past its reset timeout moves to HALF_OPEN (returned in `transitions`). The admission is
    /// reserved under `token` until ``confirm(_:)`` or ``cancel(_:)``.
    public func admit(
        _ key: String, policy declared: CircuitBreakerPolicy?, now: Instant
    ) -> (allowed: Bool, transitions: [CircuitBreakerTransition], token: Int) {
        reserve(key, declared, .admit(now: now))
    }

    /// Records the outcome of a dispatched call through `key` (reserved like ``admit(_:policy:now:)``)
    /// and returns the transitions it causes.
    public func record(
        _ key: String, policy declared: CircuitBreakerPolicy?, success: Bool, now: Instant
    ) -> (transitions: [CircuitBreakerTransition], token: Int) {
        let result = reserve(key, declared, .record(success: success, now: now))
        return (result.transitions, result.token)
    }

    /// Makes the reservations of a committed decision part of the committed state (in reservation
    /// order: a confirmed reservation waits for earlier ones), then tells the observers.
    public func confirm(_ tokens: [Int]) {
        guard !tokens.isEmpty else { return }
        let wanted = Set(tokens)
        let transitions = ledger.withLock { ledger -> [CircuitBreakerTransition] in
            for index in ledger.pending.indices where wanted.contains(ledger.pending[index].token) {
                ledger.pending[index].confirmed = true
            }
            return drainConfirmed(&ledger)
        }
        notify(transitions)
    }

    /// Folds the leading confirmed reservations into the committed state; returns their transitions.
    private func drainConfirmed(_ ledger: inout Ledger) -> [CircuitBreakerTransition] {
        var applied: [CircuitBreakerTransition] = []
        var leading = 0
        while leading < ledger.pending.count, ledger.pending[leading].confirmed {
            let reservation = ledger.pending[leading]
            var breaker = ledger.committed[reservation.key] ?? fresh(reservation.key, reservation.declared)
            _ = Self.apply(reservation.operation, to: &breaker, declared: reservation.declared, key: reservation.key)
            ledger.committed[reservation.key] = breaker
            applied += reservation.transitions
            leading += 1
        }
        ledger.pending.removeFirst(leading)
        return applied
    }

    /// Drops the reservations of a decision whose commit failed.
    public func cancel(_ tokens: [Int]) {
        guard !tokens.isEmpty else { return }
        let unwanted = Set(tokens)
        let transitions = ledger.withLock { ledger -> [CircuitBreakerTransition] in
            ledger.pending.removeAll { unwanted.contains($0.token) }
            return drainConfirmed(&ledger)
        }
        notify(transitions)
    }

    /// The state of `keys` as decisions see it now (committed plus reservations), to persist with a decision.
    public func snapshots(_ keys: some Sequence<String>) -> [CircuitBreakerSnapshot] {
        ledger.withLock { ledger in
            Set(keys).sorted().compactMap { key in
                guard let breaker = view(key, declared: nil, ledger) else { return nil }
                return Self.snapshot(key, breaker)
            }
        }
    }

    /// The committed state of every breaker (to persist after a reset).
    public func committedSnapshots() -> [CircuitBreakerSnapshot] {
        ledger.withLock { ledger in ledger.committed.keys.sorted().map { Self.snapshot($0, ledger.committed[$0]!) } }
    }

    /// Restores persisted breakers (recovery); their policies come from configuration until a
    /// definition declares one.
    public func restore(_ snapshots: [CircuitBreakerSnapshot]) {
        ledger.withLock { ledger in
            for snapshot in snapshots {
                var breaker = fresh(snapshot.key, nil)
                breaker.state = snapshot.state
                breaker.consecutiveFailures = snapshot.consecutiveFailures
                breaker.recent = snapshot.recent
                breaker.changedAt = snapshot.changedAt
                breaker.openedAt = snapshot.openedAt
                breaker.trials = snapshot.trials
                ledger.committed[snapshot.key] = breaker
            }
        }
    }

    /// Every breaker used so far, by key, in its committed state.
    public func list() -> [CircuitBreakerStatus] {
        ledger.withLock { ledger in
            ledger.committed.keys.sorted().map { key in
                let breaker = ledger.committed[key]!
                return CircuitBreakerStatus(
                    key: key, state: breaker.state, consecutiveFailures: breaker.consecutiveFailures,
                    changedAt: breaker.changedAt,
                    halfOpenAt: breaker.state == .open ? breaker.openedAt.map { $0 + breaker.policy.resetTimeout } : nil,
                    policy: breaker.policy)
            }
        }
    }

    /// Closes the breaker `key` and clears its counters (persist ``committedSnapshots()`` after it).
    /// Throws `.notFound` for a key never used.
    @discardableResult
    public func reset(_ key: String, now: Instant) throws(BatonError) -> CircuitBreakerStatus {
        let transition = try ledger.withLock { (ledger: inout Ledger) throws(BatonError) -> CircuitBreakerTransition? in
            guard var breaker = ledger.committed[key] else { throw BatonError(.notFound, "no circuit breaker '\(key)'") }
            var transition: CircuitBreakerTransition?
            if breaker.state != .closed { transition = Self.move(&breaker, to: .closed, now: now, key: key) }
            breaker.consecutiveFailures = 0
            breaker.recent = []
            ledger.committed[key] = breaker
            return transition
        }
        notify(transition.map { [$0] } ?? [])
        return list().first { $0.key == key }!
    }

    // MARK: - Reservations

    private func reserve(_ key: String, _ declared: CircuitBreakerPolicy?, _ operation: Operation)
        -> (allowed: Bool, transitions: [CircuitBreakerTransition], token: Int) {
        ledger.withLock { ledger in
            var breaker = view(key, declared: declared, ledger) ?? fresh(key, declared)
            let (allowed, transitions) = Self.apply(operation, to: &breaker, declared: declared, key: key)
            let token = ledger.nextToken
            ledger.nextToken += 1
            ledger.pending.append(Reservation(
                token: token, key: key, declared: declared, operation: operation, transitions: transitions))
            return (allowed, transitions, token)
        }
    }

    /// The committed breaker with every pending reservation for it applied (`nil`: never used).
    private func view(_ key: String, declared: CircuitBreakerPolicy?, _ ledger: Ledger) -> Breaker? {
        var breaker = ledger.committed[key]
        for reservation in ledger.pending where reservation.key == key {
            var current = breaker ?? fresh(key, reservation.declared)
            _ = Self.apply(reservation.operation, to: &current, declared: reservation.declared, key: key)
            breaker = current
        }
        if let declared, breaker != nil { breaker?.policy = declared }
        return breaker
    }

    private func fresh(_ key: String, _ declared: CircuitBreakerPolicy?) -> Breaker {
        Breaker(policy: declared ?? defaults[key] ?? CircuitBreakerPolicy())
    }

    private static func snapshot(_ key: String, _ breaker: Breaker) -> CircuitBreakerSnapshot {
        CircuitBreakerSnapshot(
            key: key, state: breaker.state, consecutiveFailures: breaker.consecutiveFailures, recent: breaker.recent,
            changedAt: breaker.changedAt, openedAt: breaker.openedAt, trials: breaker.trials)
    }

    // MARK: - The state machine

    /// Applies one operation; returns whether a call is allowed (admissions) and the transitions.
    private static func apply(
        _ operation: Operation, to breaker: inout Breaker, declared: CircuitBreakerPolicy?, key: String
    ) -> (Bool, [CircuitBreakerTransition]) {
        if let declared { breaker.policy = declared }
        switch operation {
        case .admit(let now): return admit(&breaker, now: now, key: key)
        case .record(let success, let now): return (true, record(&breaker, success: success, now: now, key: key))
        }
    }

    private static func admit(_ breaker: inout Breaker, now: Instant, key: String) -> (Bool, [CircuitBreakerTransition]) {
        switch breaker.state {
        case .closed:
            return (true, [])
        case .open:
            guard let openedAt = breaker.openedAt, now >= openedAt + breaker.policy.resetTimeout else { return (false, []) }
            let transition = move(&breaker, to: .halfOpen, now: now, key: key)
            breaker.trials = 1
            return (true, [transition])
        case .halfOpen:
            if breaker.trials < breaker.policy.halfOpenMaxCalls {
                breaker.trials += 1
                return (true, [])
            }
            if let changed = breaker.changedAt, now >= changed + breaker.policy.resetTimeout {
                // Trials that never reported (abandoned attempts) must not hold the breaker forever.
                breaker.trials = 1
                breaker.changedAt = now
                return (true, [])
            }
            return (false, [])
        }
    }

    private static func record(_ breaker: inout Breaker, success: Bool, now: Instant, key: String) -> [CircuitBreakerTransition] {
        var transitions: [CircuitBreakerTransition] = []
        breaker.recent.append(success)
        if breaker.recent.count > breaker.policy.window { breaker.recent.removeFirst(breaker.recent.count - breaker.policy.window) }
        if success {
            breaker.consecutiveFailures = 0
            if breaker.state != .closed {
                transitions.append(move(&breaker, to: .closed, now: now, key: key))
                breaker.recent = [true]
            }
            return transitions
        }
        breaker.consecutiveFailures += 1
        let failures = breaker.recent.filter { !$0 }.count
        let rateTripped = breaker.policy.failureRate.map { rate in
            breaker.recent.count >= breaker.policy.window && Double(failures) / Double(breaker.recent.count) >= rate
        } ?? false
        switch breaker.state {
        case .closed:
            if breaker.consecutiveFailures >= breaker.policy.failureThreshold || rateTripped {
                transitions.append(move(&breaker, to: .open, now: now, key: key))
            }
        case .halfOpen:
            transitions.append(move(&breaker, to: .open, now: now, key: key))
        case .open:
            break
        }
        return transitions
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
