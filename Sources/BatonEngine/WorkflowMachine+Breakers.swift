import BatonCore

extension WorkflowMachine {
    /// Consults the step's circuit breaker before dispatching attempt `attempt` (already recorded as
    /// scheduled). When the breaker is open the attempt fails fast with `CircuitOpen` (a failed attempt,
    /// retried per policy) or, when the step declares a `fallback`, completes with it; both are recorded
    /// after a `CircuitRejected` event. Returns whether the attempt may be dispatched.
    mutating func admittedByBreaker(_ step: StepDefinition, attempt: Int) -> Bool {
        guard let key = step.circuitBreaker, let breakers else { return true }
        let (allowed, transitions, token) = breakers.admit(key, policy: definition.circuitBreakers[key], now: now)
        reserved(token, key)
        for transition in transitions { emit(transition.event) }
        if allowed { return true }
        emit(.circuitRejected(step: step.name, attempt: attempt, key: key, fallback: step.fallback != nil))
        if let fallback = step.fallback {
            emit(.stepCompleted(step: step.name, attempt: attempt, output: fallback))
        } else {
            let failure = ActivityFailure(type: "CircuitOpen", message: "circuit breaker '\(key)' is open")
            attemptFailed(step.name, attempt: attempt, failure: failure, timeout: nil)
        }
        return false
    }

    /// Reports the outcome of a dispatched attempt of `name` to its breaker and records any transition.
    mutating func recordBreakerOutcome(_ name: String, success: Bool) {
        guard let key = definition.step(name)?.circuitBreaker, let breakers else { return }
        let (transitions, token) = breakers.record(key, policy: definition.circuitBreakers[key], success: success, now: now)
        reserved(token, key)
        for transition in transitions { emit(transition.event) }
    }

    /// Notes a breaker reservation of the decision in progress (confirmed or cancelled with its commit).
    private mutating func reserved(_ token: Int, _ key: String) {
        breakerReservations.append(token)
        if !touchedBreakers.contains(key) { touchedBreakers.append(key) }
    }
}
