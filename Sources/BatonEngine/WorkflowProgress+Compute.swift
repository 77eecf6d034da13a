import BatonCore

extension WorkflowProgress {
    /// Computes the progress of `state` at `now`; `expected` gives an activity's expected duration.
    public init(
        state: WorkflowState, definition: WorkflowDefinition, now: Instant, expected: (String) -> Interval
    ) {
        workflowID = state.workflowID
        status = state.status
        compensating = state.saga != nil && state.status == .running
        lastEventID = state.lastEventID
        var running: [String] = []
        var failed: [String] = []
        var skipped: [String] = []
        var pending: [String] = []
        var attempts: [String: Int] = [:]
        var waiting: [String: String] = [:]
        var doneWeight = 0.0
        var totalWeight = 0.0
        for step in definition.steps {
            let stepState = state.step(step.name)
            totalWeight += step.weight
            if stepState.attempt > 0, step.activity != nil { attempts[step.name] = stepState.attempt }
            switch stepState.status {
            case .pending: pending.append(step.name)
            case .scheduled, .started, .backoff:
                running.append(step.name)
                if case .waitForSignal(let wait) = step.kind { waiting[step.name] = wait.name }
            case .completed: doneWeight += step.weight
            case .skipped:
                doneWeight += step.weight
                skipped.append(step.name)
            case .failed: failed.append(step.name)
            }
        }
        self.running = state.status.isClosed ? [] : running
        self.failed = failed
        self.skipped = skipped
        self.pending = pending
        self.attempts = attempts
        waitingForSignals = state.status.isClosed ? [:] : waiting
        completed = state.completionOrder
        if state.status == .completed {
            percentage = 100
        } else {
            percentage = totalWeight > 0 ? (doneWeight / totalWeight * 100) : 0
        }
        let end = state.closedAt ?? now
        elapsed = state.startedAt.map { max(.zero, end - $0) } ?? .zero
        if state.status.isClosed {
            currentPhase = nil
            eta = .zero
        } else {
            let phaseStep = running.first ?? pending.first { name in
                definition.step(name)?.dependsOn.allSatisfy { state.step($0).status.isDone } ?? false
            }
            currentPhase = phaseStep.flatMap { definition.step($0)?.phase }
            // A wait in progress depends on people: no honest estimate until the signal arrives.
            eta = waiting.isEmpty ? Self.estimate(state: state, definition: definition, now: now, expected: expected) : nil
        }
    }

    /// Critical path of what is left: each step finishes at the latest finish of its dependencies plus
    /// its remaining time; during a saga, the expected durations of the compensations left.
    static func estimate(
        state: WorkflowState, definition: WorkflowDefinition, now: Instant, expected: (String) -> Interval
    ) -> Interval {
        if let saga = state.saga {
            let left = (saga.current.map { [$0] } ?? []) + saga.remaining
            let total = left.compactMap { definition.step($0)?.compensate?.activity }.map { expected($0).milliseconds }.reduce(0, +)
            return .milliseconds(total)
        }
        var finish: [String: Int64] = [:]
        func finishOf(_ name: String, depth: Int) -> Int64 {
            if let known = finish[name] { return known }
            guard let step = definition.step(name), depth <= definition.steps.count else { return 0 }
            let start = step.dependsOn.map { finishOf($0, depth: depth + 1) }.max() ?? 0
            let value = start + remaining(step, state.step(name), now: now, expected: expected)
            finish[name] = value
            return value
        }
        let longest = definition.steps.map { finishOf($0.name, depth: 0) }.max() ?? 0
        return .milliseconds(longest)
    }

    private static func remaining(
        _ step: StepDefinition, _ stepState: StepState, now: Instant, expected: (String) -> Interval
    ) -> Int64 {
        switch stepState.status {
        case .completed, .skipped, .failed:
            return 0
        case .pending, .scheduled, .started, .backoff:
            let total: Int64
            switch step.kind {
            case .activity(let activity): total = expected(activity).milliseconds
            case .sleep(let duration): total = duration.milliseconds
            case .waitForSignal: total = 0
            }
            guard stepState.status == .started, let started = stepState.startedAt else { return total }
            return max(0, total - (now - started).milliseconds)
        }
    }
}
