import BatonCore

extension WorkflowMachine {
    /// Eager DAG scheduling: starts every pending step whose dependencies are all done, skips those
    /// whose `when` is false (which may unblock more), and completes the workflow when all are done.
    mutating func advance() {
        guard state.status == .running else { return }
        if state.saga != nil {
            advanceSaga()
            return
        }
        guard !state.cancelRequested else { return }
        if remainingSteps == nil {
            remainingSteps = definition.steps.count { !state.step($0.name).status.isDone }
        }
        // Only steps whose dependency finished can have become ready (every step, the first time),
        // taken in definition order, round after round while steps finish at once (skips, signals).
        var round: [StepDefinition]
        if scansAllSteps {
            scansAllSteps = false
            readyCandidates = []
            round = definition.steps
        } else {
            round = candidateRound()
        }
        while !round.isEmpty {
            for step in round where state.step(step.name).status == .pending {
                guard step.dependsOn.allSatisfy({ state.step($0).status.isDone }) else { continue }
                if let condition = step.when, !condition.evaluate(in: state).isTruthy {
                    emit(.stepSkipped(step: step.name))
                    continue
                }
                startStep(step)
                if state.status != .running || state.saga != nil { return }
            }
            round = candidateRound()
        }
        if remainingSteps == 0 {
            let output = definition.output?.evaluate(in: state) ?? .null
            // A computed value must fit the same limits as one from outside: it is stored and served.
            if let violation = output.limitViolation(field: "output", maximumBytes: payloadLimit, limitName: "payload_bytes") {
                failWorkflow(step: nil, failure: ActivityFailure(type: Self.valueLimitErrorType, message: violation,
                                                                 nonRetryable: true))
                return
            }
            emit(.workflowCompleted(output: output))
        }
    }

    /// The steps in `readyCandidates`, once each, in definition order; empties the list.
    private mutating func candidateRound() -> [StepDefinition] {
        guard !readyCandidates.isEmpty else { return [] }
        let indexes = Set(readyCandidates.compactMap { definition.stepIndex[$0] }).sorted()
        readyCandidates = []
        return indexes.map { definition.steps[$0] }
    }

    private mutating func startStep(_ step: StepDefinition) {
        switch step.kind {
        case .activity:
            scheduleAttempt(step, attempt: 1)
        case .sleep(let duration):
            emit(.stepScheduled(step: step.name, attempt: 1, input: .null))
            emit(.stepStarted(step: step.name, attempt: 1))
            arm(step.name, attempt: 1, purpose: .sleep, fireAt: now + duration)
        case .waitForSignal(let wait):
            emit(.stepScheduled(step: step.name, attempt: 1, input: .null))
            emit(.stepStarted(step: step.name, attempt: 1))
            if let signal = state.pendingSignals.first(where: { $0.name == wait.name }) {
                emit(.stepCompleted(step: step.name, attempt: 1, output: signal.payload))
            } else if let timeout = wait.timeout {
                arm(step.name, attempt: 1, purpose: .signalTimeout, fireAt: now + timeout)
            }
        }
    }

    mutating func scheduleAttempt(_ step: StepDefinition, attempt: Int) {
        let input = step.input.evaluate(in: state)
        if let violation = input.limitViolation(field: "steps.\(step.name).input", maximumBytes: payloadLimit,
                                                limitName: "payload_bytes") {
            // Composed from other values, the input outgrew the limits: the step fails for good.
            emit(.stepScheduled(step: step.name, attempt: attempt, input: .null))
            attemptFailed(step.name, attempt: attempt, failure: ActivityFailure(
                type: Self.valueLimitErrorType, message: violation, nonRetryable: true), timeout: nil)
            return
        }
        emit(.stepScheduled(step: step.name, attempt: attempt, input: input))
        if attempt == 1, let timeout = step.timeouts.scheduleToClose {
            arm(step.name, attempt: 0, purpose: .timeout(.scheduleToClose), fireAt: now + timeout)
        }
        if !admittedByBreaker(step, attempt: attempt) { return }
        if let activity = step.activity, startsOnDispatch(activity) {
            markStarted(step.name, attempt: attempt)
        } else if let timeout = step.timeouts.scheduleToStart {
            arm(step.name, attempt: attempt, purpose: .timeout(.scheduleToStart), fireAt: now + timeout)
        }
    }

    mutating func markStarted(_ name: String, attempt: Int) {
        emit(.stepStarted(step: name, attempt: attempt))
        guard let step = definition.step(name) else { return }
        if let timeout = step.timeouts.startToClose {
            arm(name, attempt: attempt, purpose: .timeout(.startToClose), fireAt: now + timeout)
        }
        if let timeout = step.timeouts.heartbeat {
            arm(name, attempt: attempt, purpose: .timeout(.heartbeat), fireAt: now + timeout)
        }
    }

    /// A heartbeat-timeout timer fired: when heartbeats came within the timeout (kept in memory), the
    /// attempt is alive — re-arm the timer from the last one (replacing it: no `TimerFired`), recording
    /// the latest details when the last record is an interval old. False when the attempt timed out.
    private mutating func extendHeartbeatLease(_ timer: WorkflowState.ArmedTimer) -> Bool {
        let ref = AttemptRef(step: timer.step, attempt: timer.attempt)
        guard state.step(timer.step).attempt == timer.attempt, state.step(timer.step).status.isInFlight,
              let mark = heartbeats[ref], let timeout = definition.step(timer.step)?.timeouts.heartbeat,
              now - mark.receivedAt < timeout
        else { return false }
        if let details = mark.pending, now - mark.recordedAt >= Self.heartbeatRecordInterval {
            emit(.stepHeartbeat(step: timer.step, attempt: timer.attempt, details: details))
            heartbeats[ref] = HeartbeatMark(recordedAt: now, receivedAt: mark.receivedAt)
        }
        arm(timer.step, attempt: timer.attempt, purpose: .timeout(.heartbeat), fireAt: mark.receivedAt + timeout)
        return true
    }

    /// A failed or timed-out attempt: retry after a durable backoff when the policy allows, else fail the step.
    mutating func attemptFailed(_ name: String, attempt: Int, failure: ActivityFailure, timeout: TimeoutKind?) {
        guard let step = definition.step(name) else { return }
        // The next attempt resumes from the latest details, also ones not recorded yet.
        if let details = heartbeats.removeValue(forKey: AttemptRef(step: name, attempt: attempt))?.pending {
            emit(.stepHeartbeat(step: name, attempt: attempt, details: details))
        }
        if failure.type != "CircuitOpen" { recordBreakerOutcome(name, success: false) }
        var retryAt: Instant?
        if !state.cancelRequested,
            step.retry.allowsRetry(afterAttempt: attempt, errorType: failure.type, nonRetryable: failure.nonRetryable)
        {
            let candidate = now + step.retry.delay(afterAttempt: attempt)
            let deadline = step.timeouts.scheduleToClose.flatMap { limit in state.step(name).firstScheduledAt.map { $0 + limit } }
            if deadline.map({ candidate < $0 }) ?? true { retryAt = candidate }
        }
        if let timeout {
            emit(.stepTimedOut(step: name, attempt: attempt, timeout: timeout, retryAt: retryAt))
        } else {
            emit(.stepFailed(step: name, attempt: attempt, failure: failure, retryAt: retryAt))
        }
        if let retryAt {
            arm(name, attempt: attempt, purpose: .retryBackoff, fireAt: retryAt)
        } else {
            failWorkflow(step: name, failure: failure)
        }
    }

    mutating func timerFired(_ id: String, _ timer: WorkflowState.ArmedTimer) {
        if timer.purpose == .timeout(.heartbeat), extendHeartbeatLease(timer) { return }
        emit(.timerFired(timer: id))
        if let name = SagaState.compensatedStep(ofTaskStep: timer.step) {
            compensationTimerFired(name, timer)
            return
        }
        guard let step = definition.step(timer.step) else { return }
        let stepState = state.step(timer.step)
        switch timer.purpose {
        case .retryBackoff:
            if stepState.status == .backoff { scheduleAttempt(step, attempt: timer.attempt + 1) }
        case .sleep:
            emit(.stepCompleted(step: step.name, attempt: timer.attempt, output: .null))
        case .signalTimeout:
            guard case .waitForSignal(let wait) = step.kind else { return }
            emit(.signalWaitTimedOut(step: step.name))
            switch wait.onTimeout {
            case .continue:
                emit(.stepCompleted(step: step.name, attempt: timer.attempt, output: .null))
            case .fail, .compensate:
                let failure = ActivityFailure(
                    type: "SignalTimeout", message: "no signal '\(wait.name)' within \(wait.timeout ?? .zero)",
                    nonRetryable: true)
                emit(.stepFailed(step: step.name, attempt: timer.attempt, failure: failure, retryAt: nil))
                failWorkflow(step: step.name, failure: failure, forceCompensation: wait.onTimeout == .compensate)
            }
        case .timeout(.scheduleToClose):
            guard stepState.status != .completed, stepState.status != .failed else { return }
            let failure = ActivityFailure(type: "Timeout", message: "schedule_to_close timeout", nonRetryable: true)
            emit(.stepTimedOut(step: step.name, attempt: stepState.attempt, timeout: .scheduleToClose, retryAt: nil))
            failWorkflow(step: step.name, failure: failure)
        case .timeout(.heartbeat):
            guard stepState.attempt == timer.attempt, stepState.status.isInFlight else { return }
            attemptFailed(
                step.name, attempt: timer.attempt,
                failure: ActivityFailure(type: "Timeout", message: "heartbeat timeout"), timeout: .heartbeat)
        case .timeout(let kind):
            guard stepState.attempt == timer.attempt, stepState.status.isInFlight else { return }
            attemptFailed(
                step.name, attempt: timer.attempt,
                failure: ActivityFailure(type: "Timeout", message: "\(kind.rawValue) timeout"), timeout: kind)
        }
    }

    /// Whether a started `wait_for_signal` step waits for `name` (a signal of that name is consumed at once).
    func isWaiting(forSignal name: String) -> Bool {
        definition.steps.contains { step in
            guard case .waitForSignal(let wait) = step.kind, wait.name == name else { return false }
            return state.step(step.name).status == .started
        }
    }

    mutating func signalReceived(_ name: String, payload: JSONValue, requestID: String?) {
        emit(.signalReceived(name: name, payload: payload, requestID: requestID))
        for step in definition.steps {
            guard case .waitForSignal(let wait) = step.kind, wait.name == name,
                state.step(step.name).status == .started
            else { continue }
            emit(.stepCompleted(step: step.name, attempt: state.step(step.name).attempt, output: payload))
            return
        }
    }
}
