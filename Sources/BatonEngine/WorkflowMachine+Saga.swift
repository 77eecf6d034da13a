import BatonCore

extension WorkflowMachine {
    /// A step failed for good (or a wait timed out with `on_timeout: compensate`, `forceCompensation`).
    /// With `on_failure: compensate` the saga takes over; otherwise the workflow fails at once.
    mutating func failWorkflow(step: String?, failure: ActivityFailure, forceCompensation: Bool = false) {
        guard state.status == .running, state.saga == nil else { return }
        if definition.onFailure == .compensate || forceCompensation {
            abandonRunningSteps(reason: "workflow failed: \(step.map { "step '\($0)' failed" } ?? failure.message)")
            emit(.sagaStarted(step: step, failure: failure))
            advanceSaga()
        } else {
            emit(.workflowFailed(step: step, failure: failure))
        }
    }

    /// Cancel: stops scheduling, asks running attempts to stop (they are recorded as failed with type
    /// `Cancelled` and their executors get a cancel command), then compensates when the definition says
    /// `on_failure: compensate`; the workflow closes as CANCELLED (or COMPENSATION_FAILED).
    mutating func cancelWorkflow(reason: String) {
        guard state.saga == nil, !state.cancelRequested else { return }
        emit(.cancelRequested(reason: reason))
        abandonRunningSteps(reason: "cancelled: \(reason)")
        if definition.onFailure == .compensate {
            emit(.sagaStarted(step: nil, failure: nil))
            advanceSaga()
        } else {
            emit(.workflowCancelled(reason: reason))
        }
    }

    /// Records every scheduled, started or backing-off step as failed with type `Cancelled`.
    private mutating func abandonRunningSteps(reason: String) {
        for step in definition.steps {
            let stepState = state.step(step.name)
            guard stepState.status.isInFlight || stepState.status == .backoff else { continue }
            let failure = ActivityFailure(type: "Cancelled", message: reason, nonRetryable: true)
            emit(.stepFailed(step: step.name, attempt: stepState.attempt, failure: failure, retryAt: nil))
        }
    }

    /// Starts the next compensation, or closes the workflow when none is left.
    mutating func advanceSaga() {
        guard state.status == .running, let saga = state.saga, saga.current == nil else { return }
        if let next = saga.remaining.first {
            emit(.compensationStarted(step: next))
            scheduleCompensation(next, attempt: 1)
        } else if let failed = saga.failed.first {
            emit(.workflowCompensationFailed(step: failed))
        } else if saga.cancelled {
            emit(.workflowCancelled(reason: state.cancelReason ?? "cancelled"))
        } else {
            emit(.workflowCompensated)
        }
    }

    /// Schedules attempt `attempt` of the compensation of `name`; the step's `start_to_close_timeout`
    /// bounds each compensation attempt too (a timed-out attempt is a failed one).
    private mutating func scheduleCompensation(_ name: String, attempt: Int) {
        guard let step = definition.step(name), let compensation = step.compensate else { return }
        let input = compensation.input.evaluate(in: CompensationScope(state: state, step: name))
        emit(.compensationScheduled(step: name, attempt: attempt, input: input))
        if let timeout = step.timeouts.startToClose {
            arm(SagaState.taskStep(for: name), attempt: attempt, purpose: .timeout(.startToClose), fireAt: now + timeout)
        }
    }

    /// Whether `attempt` is the in-flight attempt of the compensation of `name`.
    func isCurrentCompensation(_ name: String, _ attempt: Int) -> Bool {
        guard let saga = state.saga else { return false }
        return saga.current == name && saga.attempt == attempt && saga.inFlight
    }

    /// A compensation attempt finished.
    mutating func compensationCompleted(_ name: String) {
        emit(.compensationCompleted(step: name))
    }

    /// A compensation attempt failed: retry after a durable backoff per the compensation's own policy,
    /// else record the compensation as failed and move on to the next one.
    mutating func compensationAttemptFailed(_ name: String, attempt: Int, failure: ActivityFailure) {
        guard let policy = definition.step(name)?.compensate?.retry else { return }
        if policy.allowsRetry(afterAttempt: attempt, errorType: failure.type, nonRetryable: failure.nonRetryable) {
            let retryAt = now + policy.delay(afterAttempt: attempt)
            emit(.compensationAttemptFailed(step: name, attempt: attempt, failure: failure, retryAt: retryAt))
            arm(SagaState.taskStep(for: name), attempt: attempt, purpose: .retryBackoff, fireAt: retryAt)
        } else {
            emit(.compensationAttemptFailed(step: name, attempt: attempt, failure: failure, retryAt: nil))
            emit(.compensationFailed(step: name, failure: failure))
        }
    }

    /// A timer of a compensation fired: its backoff (schedule the next attempt) or its timeout (the
    /// in-flight attempt failed).
    mutating func compensationTimerFired(_ name: String, _ timer: WorkflowState.ArmedTimer) {
        guard let saga = state.saga, saga.current == name, saga.attempt == timer.attempt else { return }
        switch timer.purpose {
        case .retryBackoff:
            if !saga.inFlight { scheduleCompensation(name, attempt: timer.attempt + 1) }
        case .timeout(let kind):
            guard saga.inFlight else { return }
            let failure = ActivityFailure(type: "Timeout", message: "compensation \(kind.rawValue) timeout")
            compensationAttemptFailed(name, attempt: timer.attempt, failure: failure)
        case .sleep, .signalTimeout:
            return
        }
    }

    /// The task of the in-flight compensation attempt `ref` (step `NAME.compensate`).
    func compensationTask(for ref: AttemptRef) -> ActivityTask? {
        guard let name = SagaState.compensatedStep(ofTaskStep: ref.step), let step = definition.step(name),
            let compensation = step.compensate, let saga = state.saga, saga.current == name
        else { return nil }
        return ActivityTask(
            workflowID: state.workflowID, step: ref.step, attempt: ref.attempt, activity: compensation.activity,
            taskQueue: step.taskQueue, input: saga.input, heartbeatDetails: .null,
            scheduledAt: state.closedAt ?? state.step(name).finishedAt ?? now,
            startToCloseTimeout: step.timeouts.startToClose,
            traceparent: state.trace.map { $0.traceparent(spanID: $0.spanID(.compensate, step: name, attempt: ref.attempt)) })
    }
}
