import BatonCore

extension WorkflowState {
    /// Folds one event into the state. Pure and deterministic: the same history always yields the
    /// same state. `definition` is the pinned definition (used to know which signal a step consumes).
    public mutating func apply(_ event: WorkflowEvent, definition: WorkflowDefinition) {
        lastEventID = event.id
        let time = event.time
        switch event.kind {
        case .workflowStarted(let name, let version, let input, let runID, let trace):
            self.runID = runID
            self.trace = trace
            definitionName = name
            definitionVersion = version
            self.input = input
            status = .running
            startedAt = time
        case .stepScheduled(let name, let attempt, let input):
            update(name) { step in
                step.status = .scheduled
                step.attempt = attempt
                step.input = input
                step.scheduledAt = time
                step.startedAt = nil
                if step.firstScheduledAt == nil { step.firstScheduledAt = time }
            }
        case .stepStarted(let name, let attempt):
            update(name) { step in
                step.status = .started
                step.startedAt = time
            }
            timers[TimerPurpose.timeout(.scheduleToStart).timerID(step: name, attempt: attempt)] = nil
        case .stepHeartbeat(let name, _, let details):
            update(name) { $0.heartbeatDetails = details }
        case .stepCompleted(let name, _, let output):
            update(name) { step in
                step.status = .completed
                step.output = output
                step.finishedAt = time
            }
            completionOrder.append(name)
            removeTimers { $0.step == name }
            if case .waitForSignal(let wait) = definition.step(name)?.kind,
                let index = pendingSignals.firstIndex(where: { $0.name == wait.name })
            {
                pendingSignals.remove(at: index)
            }
        case .stepFailed(let name, let attempt, let failure, let retryAt):
            recordFailure(name, attempt: attempt, failure: failure, willRetry: retryAt != nil, time: time)
        case .stepTimedOut(let name, let attempt, let timeout, let retryAt):
            let failure = ActivityFailure(type: "Timeout", message: "\(timeout.rawValue) timeout")
            recordFailure(name, attempt: attempt, failure: failure, willRetry: retryAt != nil, time: time)
        case .stepSkipped(let name):
            update(name) { step in
                step.status = .skipped
                step.finishedAt = time
            }
        case .timerStarted(let id, let name, let attempt, let purpose, let fireAt):
            timers[id] = ArmedTimer(step: name, attempt: attempt, purpose: purpose, fireAt: fireAt)
        case .timerFired(let id):
            timers[id] = nil
        case .signalReceived(let name, let payload, let requestID):
            if let requestID { signalRequestIDs.insert(requestID) }
            pendingSignals.append(PendingSignal(name: name, payload: payload))
        case .signalWaitTimedOut:
            break
        case .cancelRequested(let reason):
            cancelRequested = true
            cancelReason = reason
        case .sagaStarted(let step, let failure):
            if let step { failedStep = step }
            if let failure { self.failure = failure }
            let remaining = completionOrder.reversed().filter { definition.step($0)?.compensate != nil }
            saga = SagaState(remaining: remaining, cancelled: step == nil && failure == nil)
        case .compensationStarted(let name):
            saga?.remaining.removeAll { $0 == name }
            saga?.current = name
            saga?.attempt = 0
            saga?.inFlight = false
        case .compensationScheduled(_, let attempt, let input):
            saga?.attempt = attempt
            saga?.inFlight = true
            saga?.input = input
        case .compensationAttemptFailed(let name, _, _, _):
            saga?.inFlight = false
            removeTimers { $0.step == SagaState.taskStep(for: name) }
        case .compensationCompleted(let name):
            removeTimers { $0.step == SagaState.taskStep(for: name) }
            saga?.compensated.append(name)
            saga?.current = nil
            saga?.inFlight = false
        case .compensationFailed(let name, let failure):
            saga?.failed.append(name)
            saga?.current = nil
            saga?.inFlight = false
            if compensationFailedStep == nil {
                compensationFailedStep = name
                if self.failure == nil { self.failure = failure }
            }
        case .workflowCompensationFailed(let name):
            if compensationFailedStep == nil { compensationFailedStep = name }
            close(.compensationFailed, at: time)
        case .circuitRejected:
            break
        case .workflowCompleted(let output):
            self.output = output
            close(.completed, at: time)
        case .workflowFailed(let step, let failure):
            self.failure = failure
            failedStep = step
            close(.failed, at: time)
        case .workflowCancelled:
            close(.cancelled, at: time)
        case .workflowTerminated:
            close(.terminated, at: time)
        case .workflowCompensated:
            close(.compensated, at: time)
        case .circuitOpened, .circuitHalfOpened, .circuitClosed:
            break
        }
    }

    private mutating func update(_ name: String, _ body: (inout StepState) -> Void) {
        var step = steps[name] ?? StepState()
        body(&step)
        steps[name] = step
    }

    private mutating func recordFailure(_ name: String, attempt: Int, failure: ActivityFailure, willRetry: Bool, time: Instant) {
        update(name) { step in
            step.lastFailure = failure
            step.status = willRetry ? .backoff : .failed
            if !willRetry { step.finishedAt = time }
        }
        if willRetry {
            removeTimers { $0.step == name && $0.attempt == attempt }
        } else {
            removeTimers { $0.step == name }
        }
    }

    private mutating func removeTimers(where predicate: (ArmedTimer) -> Bool) {
        for (id, timer) in timers where predicate(timer) { timers[id] = nil }
    }

    private mutating func close(_ newStatus: WorkflowStatus, at time: Instant) {
        status = newStatus
        closedAt = time
        timers = [:]
    }

    /// Attempts currently handed to executors: scheduled or started activity steps of an open workflow,
    /// or, once the saga runs, the current compensation attempt (step `NAME.compensate`).
    public func inFlightAttempts(definition: WorkflowDefinition) -> [AttemptRef] {
        guard status == .running else { return [] }
        if let saga {
            guard let current = saga.current, saga.inFlight else { return [] }
            return [AttemptRef(step: SagaState.taskStep(for: current), attempt: saga.attempt)]
        }
        var result: [AttemptRef] = []
        for step in definition.steps where step.activity != nil {
            if let state = steps[step.name], state.status.isInFlight {
                result.append(AttemptRef(step: step.name, attempt: state.attempt))
            }
        }
        return result
    }
}
