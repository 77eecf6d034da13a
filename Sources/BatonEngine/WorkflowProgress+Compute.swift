import BatonCore

extension WorkflowProgress {
    /// Computes the progress of `state` at `now`; `expected` gives an activity's expected duration,
    /// `nil` when there is no history to estimate it from.
    public init(
        state: WorkflowState, definition: WorkflowDefinition, now: Instant, expected: (String) -> Interval?
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
            etaUntilSignal = nil
        } else {
            let phaseStep = running.first ?? pending.first { name in
                definition.step(name)?.dependsOn.allSatisfy { state.step($0).status.isDone } ?? false
            }
            currentPhase = phaseStep.flatMap { definition.step($0)?.phase }
            // A wait in progress depends on people: no honest estimate until the signal arrives.
            if waiting.isEmpty {
                (eta, etaUntilSignal) = Self.estimate(state: state, definition: definition, now: now, expected: expected)
            } else {
                (eta, etaUntilSignal) = (nil, nil)
            }
        }
    }

    /// Critical path of what is left: each step finishes at the latest finish of its dependencies plus
    /// its remaining time. When a `wait_for_signal` step lies ahead, the estimate runs until the first
    /// such wait begins (and names its signal): nobody can say when a person answers. During a saga,
    /// the expected durations of the compensations left. `nil` when an activity on the way has no
    /// estimate.
    static func estimate(
        state: WorkflowState, definition: WorkflowDefinition, now: Instant, expected: (String) -> Interval?
    ) -> (Interval?, untilSignal: String?) {
        if let saga = state.saga {
            let left = (saga.current.map { [$0] } ?? []) + saga.remaining
            var total: Int64 = 0
            for activity in left.compactMap({ definition.step($0)?.compensate?.activity }) {
                guard let duration = expected(activity) else { return (nil, nil) }
                total += duration.milliseconds
            }
            return (.milliseconds(total), nil)
        }
        // Finish times in ms from now; `.some(nil)` memoizes "unknown".
        var finish: [String: Int64?] = [:]
        func startOf(_ step: StepDefinition, depth: Int) -> Int64? {
            var start: Int64 = 0
            for dependency in step.dependsOn {
                guard let done = finishOf(dependency, depth: depth + 1) else { return nil }
                start = max(start, done)
            }
            return start
        }
        func finishOf(_ name: String, depth: Int) -> Int64? {
            if let known = finish[name] { return known }
            guard let step = definition.step(name), depth <= definition.steps.count else { return 0 }
            var value: Int64?
            if let start = startOf(step, depth: depth),
               let left = remaining(step, state.step(name), now: now, expected: expected) {
                value = start + left
            }
            finish[name] = .some(value)
            return value
        }
        // The first wait not reached yet bounds what can be estimated.
        var firstWait: (start: Int64, signal: String)?
        for step in definition.steps {
            guard case .waitForSignal(let wait) = step.kind, state.step(step.name).status == .pending else { continue }
            guard let start = startOf(step, depth: 0) else { return (nil, nil) }
            if firstWait.map({ start < $0.start }) ?? true { firstWait = (start, wait.name) }
        }
        if let firstWait { return (.milliseconds(firstWait.start), firstWait.signal) }
        var longest: Int64 = 0
        for step in definition.steps {
            guard let done = finishOf(step.name, depth: 0) else { return (nil, nil) }
            longest = max(longest, done)
        }
        return (.milliseconds(longest), nil)
    }

    private static func remaining(
        _ step: StepDefinition, _ stepState: StepState, now: Instant, expected: (String) -> Interval?
    ) -> Int64? {
        switch stepState.status {
        case .completed, .skipped, .failed:
            return 0
        case .pending, .scheduled, .started, .backoff:
            let total: Int64
            switch step.kind {
            case .activity(let activity):
                guard let duration = expected(activity) else { return nil }
                total = duration.milliseconds
            case .sleep(let duration): total = duration.milliseconds
            case .waitForSignal: total = 0
            }
            guard stepState.status == .started, let started = stepState.startedAt else { return total }
            return max(0, total - (now - started).milliseconds)
        }
    }
}
