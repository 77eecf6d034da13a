import BatonCore

/// The pure state machine of one workflow run: `apply(event)` folds history into state and
/// `decide(input, now:)` turns an input into new events (already applied) and commands.
///
/// No I/O and no clock: the caller supplies `now`, commits the decision's events and the new
/// ``state`` atomically, and only then performs the commands.
///
/// ```swift
/// var (machine, first) = WorkflowMachine.start(
///     workflowID: "wf-1", definition: definition, version: 1, input: ["x": 1], now: clock.now())
/// try await store.commit(WorkflowChange(state: machine.state, decision: first, isNew: true), isolation: nil)
/// perform(first.commands)                              // dispatch attempts, arm timers
/// let next = machine.decide(.activityCompleted(step: "a", attempt: 1, output: ["ok": true]), now: clock.now())
/// ```
public struct WorkflowMachine: Sendable {
    /// The pinned definition.
    public let definition: WorkflowDefinition
    /// The current state (the snapshot).
    public private(set) var state: WorkflowState
    /// Whether dispatching an attempt of the named activity also starts it (in-process executors):
    /// then `StepStarted` is recorded with `StepScheduled` and start-to-close timing begins at dispatch.
    public let startsOnDispatch: @Sendable (String) -> Bool
    /// The shared circuit breakers consulted before dispatching a step that names one (`nil`: none).
    public let breakers: CircuitBreakerRegistry?
    /// Events the run's history may hold (``RuntimeLimits/historyEvents``).
    public var historyLimit = RuntimeLimits().historyEvents
    /// Bytes of JSON an activity result may have (``RuntimeLimits/payloadBytes``).
    public var payloadLimit = RuntimeLimits().payloadBytes

    /// The error type of a step or run that produced a value over ``JSONValueLimits``.
    public static let valueLimitErrorType = "ValueLimitExceeded"

    var pending: [WorkflowEvent] = []
    var now = Instant.epoch
    /// Heartbeats of in-flight attempts, by attempt (memory only, never folded into the state).
    var heartbeats: [AttemptRef: HeartbeatMark] = [:]

    /// How often a heartbeating attempt's details are recorded in history: the first heartbeat of an
    /// attempt is, later ones at most once per interval, and the latest details when the attempt fails or
    /// times out. The heartbeat-timeout timer is re-armed (one `TimerStarted`) only when it fires and
    /// heartbeats came meanwhile. So an hour of heartbeats every second with a 60 s heartbeat timeout adds
    /// about 180 events, not 7,200. A crash of the server loses at most one interval of details (the next
    /// attempt resumes from the last recorded ones), never the attempt.
    public static let heartbeatRecordInterval: Interval = .seconds(30)
    /// Circuit-breaker reservations and keys of the decision in progress.
    var breakerReservations: [Int] = []
    var touchedBreakers: [String] = []

    // Bookkeeping that keeps a decision's cost proportional to what it changes, not to the run's
    // size (never stored; rebuilt from the state when a machine is made).
    /// Steps the events of the decision in progress touched, with their state before it.
    var touched: [String: StepState] = [:]
    /// Timers armed by the decision in progress.
    var armedTimers: [String] = []
    /// Steps that may have become ready (a dependency finished) since the last `advance()`.
    var readyCandidates: [String] = []
    /// Whether the next `advance()` must look at every step (the first one after the machine was made).
    var scansAllSteps = true
    /// Steps not yet done, once counted.
    var remainingSteps: Int?

    /// Rebuilds a machine around a stored snapshot (or an empty state to fold history into).
    public init(
        definition: WorkflowDefinition, state: WorkflowState,
        startsOnDispatch: @escaping @Sendable (String) -> Bool = { _ in true }, breakers: CircuitBreakerRegistry? = nil
    ) {
        self.definition = definition
        self.state = state
        self.startsOnDispatch = startsOnDispatch
        self.breakers = breakers
    }

    /// Starts a new run: records `WorkflowStarted` and schedules every step without dependencies.
    public static func start(
        workflowID: String, runID: String? = nil, trace: TraceContext? = nil, definition: WorkflowDefinition, version: Int,
        input: JSONValue, now: Instant,
        startsOnDispatch: @escaping @Sendable (String) -> Bool = { _ in true }, breakers: CircuitBreakerRegistry? = nil,
        limits: RuntimeLimits = RuntimeLimits()
    ) -> (WorkflowMachine, Decision) {
        var machine = WorkflowMachine(
            definition: definition, state: WorkflowState(workflowID: workflowID), startsOnDispatch: startsOnDispatch,
            breakers: breakers)
        machine.historyLimit = limits.historyEvents
        machine.payloadLimit = limits.payloadBytes
        let decision = machine.run(now: now, reported: nil) { machine in
            machine.emit(.workflowStarted(definition: definition.name, version: version, input: input, runID: runID,
                                          trace: trace))
        }
        return (machine, decision)
    }

    /// Folds one stored event into the state (replay).
    public mutating func apply(_ event: WorkflowEvent) {
        state.apply(event, definition: definition)
    }

    /// Decides on `input` at time `now`. Inputs that no longer matter (a result of a superseded
    /// attempt, a disarmed timer, anything after close) yield an empty decision.
    public mutating func decide(_ input: WorkflowInput, now: Instant) -> Decision {
        guard state.status == .running else { return Decision() }
        switch input {
        case .activityStarted(let step, let attempt):
            guard isCurrent(step, attempt), state.step(step).status == .scheduled else { return Decision() }
            return run(now: now, reported: nil) { $0.markStarted(step, attempt: attempt) }
        case .activityCompleted(let step, let attempt, let output):
            if let name = SagaState.compensatedStep(ofTaskStep: step) {
                guard isCurrentCompensation(name, attempt) else { return Decision() }
                return run(now: now, reported: AttemptRef(step: step, attempt: attempt)) { $0.compensationCompleted(name) }
            }
            guard isCurrent(step, attempt) else { return Decision() }
            if let violation = output.limitViolation(field: "steps.\(step).output", maximumBytes: payloadLimit,
                                                     limitName: "payload_bytes") {
                // An output the store and clients could not read back is a failed attempt, never stored.
                let failure = ActivityFailure(type: Self.valueLimitErrorType, message: violation, nonRetryable: true)
                return decide(.activityFailed(step: step, attempt: attempt, failure: failure), now: now)
            }
            return run(now: now, reported: AttemptRef(step: step, attempt: attempt)) { machine in
                if machine.state.step(step).status == .scheduled { machine.markStarted(step, attempt: attempt) }
                machine.recordBreakerOutcome(step, success: true)
                machine.heartbeats[AttemptRef(step: step, attempt: attempt)] = nil
                machine.emit(.stepCompleted(step: step, attempt: attempt, output: output))
            }
        case .activityFailed(let step, let attempt, let failure):
            if let name = SagaState.compensatedStep(ofTaskStep: step) {
                guard isCurrentCompensation(name, attempt) else { return Decision() }
                return run(now: now, reported: AttemptRef(step: step, attempt: attempt)) { machine in
                    machine.compensationAttemptFailed(name, attempt: attempt, failure: failure)
                }
            }
            guard isCurrent(step, attempt) else { return Decision() }
            return run(now: now, reported: AttemptRef(step: step, attempt: attempt)) { machine in
                machine.attemptFailed(step, attempt: attempt, failure: failure, timeout: nil)
            }
        case .activityHeartbeat(let step, let attempt, let details):
            guard isCurrent(step, attempt) else { return Decision() }
            let ref = AttemptRef(step: step, attempt: attempt)
            if let recorded = heartbeats[ref]?.recordedAt, now - recorded < Self.heartbeatRecordInterval {
                // Kept in memory: it keeps the attempt alive when its heartbeat-timeout timer fires, and is
                // recorded at the next interval or when the attempt fails. Nothing to commit now.
                heartbeats[ref]?.pending = details
                heartbeats[ref]?.receivedAt = now
                return Decision()
            }
            heartbeats[ref] = HeartbeatMark(recordedAt: now, receivedAt: now)
            return run(now: now, reported: nil) { machine in
                machine.emit(.stepHeartbeat(step: step, attempt: attempt, details: details))
            }
        case .timerFired(let id):
            guard let timer = state.timers[id] else { return Decision() }
            return run(now: now, reported: nil) { $0.timerFired(id, timer) }
        case .signal(let name, let payload, let requestID):
            if let requestID, state.signalRequestIDs.contains(requestID) { return Decision() }
            return run(now: now, reported: nil) { $0.signalReceived(name, payload: payload, requestID: requestID) }
        case .cancel(let reason):
            guard state.saga == nil, !state.cancelRequested else { return Decision() }
            return run(now: now, reported: nil) { $0.cancelWorkflow(reason: reason) }
        case .terminate(let reason):
            return run(now: now, reported: nil) { $0.emit(.workflowTerminated(reason: reason)) }
        }
    }

    /// Commands that restore in-memory side effects after a restart: re-dispatch every in-flight
    /// attempt (same idempotency key) and re-arm every timer.
    public func recoveryCommands() -> [EngineCommand] {
        var commands: [EngineCommand] = []
        for id in state.timers.keys.sorted() {
            commands.append(.startTimer(DurableTimer(workflowID: state.workflowID, timer: id, fireAt: state.timers[id]!.fireAt)))
        }
        for attempt in state.inFlightAttempts(definition: definition) {
            if let task = task(for: attempt) { commands.append(.dispatch(task)) }
        }
        return commands
    }

    /// The task describing an in-flight attempt, built from state.
    public func task(for ref: AttemptRef) -> ActivityTask? {
        if SagaState.compensatedStep(ofTaskStep: ref.step) != nil { return compensationTask(for: ref) }
        guard let step = definition.step(ref.step), let activity = step.activity else { return nil }
        let stepState = state.step(ref.step)
        return ActivityTask(
            workflowID: state.workflowID, step: ref.step, attempt: ref.attempt, activity: activity,
            taskQueue: step.taskQueue, input: stepState.input, heartbeatDetails: stepState.heartbeatDetails,
            scheduledAt: stepState.scheduledAt ?? now, heartbeatTimeout: step.timeouts.heartbeat,
            startToCloseTimeout: step.timeouts.startToClose,
            traceparent: state.trace.map { $0.traceparent(spanID: $0.spanID(.step, step: ref.step, attempt: ref.attempt)) })
    }

    private func isStartedOnDispatch(_ step: String) -> Bool {
        if let name = SagaState.compensatedStep(ofTaskStep: step) {
            return definition.step(name)?.compensate.map { startsOnDispatch($0.activity) } ?? false
        }
        return definition.step(step)?.activity.map(startsOnDispatch) ?? false
    }

    private func isCurrent(_ step: String, _ attempt: Int) -> Bool {
        let stepState = state.step(step)
        return stepState.attempt == attempt && stepState.status.isInFlight && definition.step(step)?.activity != nil
    }

    /// Runs `body`, advances the DAG, and derives commands from the state change. Only the steps and
    /// timers the decision's events touched are compared (the whole run only when it closes or its
    /// saga starts), so a decision costs what it changes, not the size of the run.
    private mutating func run(now: Instant, reported: AttemptRef?, _ body: (inout WorkflowMachine) -> Void) -> Decision {
        self.now = now
        pending = []
        touched = [:]
        armedTimers = []
        let timersBefore = state.timers
        let wholeBefore = state.saga != nil || state.status != .running
        let inFlightBefore: Set<AttemptRef>? = wholeBefore ? Set(state.inFlightAttempts(definition: definition)) : nil
        let wasRunning = state.status == .running
        body(&self)
        advance()
        if state.status == .running, state.lastEventID >= historyLimit {
            // At the limit the run fails rather than growing: no compensation (it would need more events).
            emit(.workflowFailed(step: nil, failure: ActivityFailure(
                type: RuntimeLimits.historyLimitErrorType,
                message: "the history reached \(state.lastEventID) events; \(RuntimeLimits.reached("history_events", historyLimit))",
                nonRetryable: true)))
        }
        var decision = Decision(events: pending)
        pending = []
        decision.breakerReservations = breakerReservations
        decision.touchedBreakers = touchedBreakers
        breakerReservations = []
        touchedBreakers = []
        for event in decision.events {
            guard case .stepCompleted(let name, _, _) = event.kind, let activity = definition.step(name)?.activity,
                let started = state.step(name).startedAt
            else { continue }
            decision.durationSamples.append(ActivityDurationSample(
                activity: activity, milliseconds: max(0, event.time.millisecondsSinceEpoch - started.millisecondsSinceEpoch)))
        }
        appendTimerCommands(to: &decision, before: timersBefore)
        appendAttemptCommands(to: &decision, reported: reported, inFlightBefore: inFlightBefore)
        if wasRunning || decision.events.first.map({ if case .workflowStarted = $0.kind { true } else { false } }) == true,
            state.status.isClosed
        {
            decision.commands.append(.workflowClosed(workflowID: state.workflowID, status: state.status))
        }
        touched = [:]
        armedTimers = []
        return decision
    }

    /// Cancels for timers that went away, starts for timers armed (or re-armed) by the decision.
    private func appendTimerCommands(to decision: inout Decision, before: [String: WorkflowState.ArmedTimer]) {
        let armed = Set(armedTimers)
        let added = armed.filter { before[$0] == nil && state.timers[$0] != nil }.count
        // Additions are known exactly, so the count tells whether any timer went away.
        if before.count + added != state.timers.count {
            for id in before.keys.sorted() where state.timers[id] == nil {
                decision.commands.append(.cancelTimer(workflowID: state.workflowID, timer: id))
            }
        }
        for id in armed.sorted() {
            guard let timer = state.timers[id], before[id] != timer else { continue }
            decision.commands.append(.startTimer(DurableTimer(workflowID: state.workflowID, timer: id, fireAt: timer.fireAt)))
        }
    }

    /// Cancels and released tasks for attempts no longer in flight, dispatches for new ones.
    private func appendAttemptCommands(to decision: inout Decision, reported: AttemptRef?, inFlightBefore: Set<AttemptRef>?) {
        let before: Set<AttemptRef>
        let after: Set<AttemptRef>
        if state.saga == nil, state.status == .running, inFlightBefore == nil {
            // Untouched steps kept their status: only the touched ones can differ.
            var was: Set<AttemptRef> = []
            var now: Set<AttemptRef> = []
            for (name, prior) in touched where definition.step(name)?.activity != nil {
                if prior.status.isInFlight { was.insert(AttemptRef(step: name, attempt: prior.attempt)) }
                let current = state.step(name)
                if current.status.isInFlight { now.insert(AttemptRef(step: name, attempt: current.attempt)) }
            }
            (before, after) = (was, now)
        } else {
            after = Set(state.inFlightAttempts(definition: definition))
            if let inFlightBefore {
                before = inFlightBefore
            } else {
                // The saga started or the run closed in this decision: rebuild what was in flight.
                var was: Set<AttemptRef> = []
                for step in definition.steps where step.activity != nil {
                    let prior = touched[step.name] ?? state.step(step.name)
                    if prior.status.isInFlight { was.insert(AttemptRef(step: step.name, attempt: prior.attempt)) }
                }
                before = was
            }
        }
        for ref in before.subtracting(after).sorted(by: { ($0.step, $0.attempt) < ($1.step, $1.attempt) }) {
            if !isStartedOnDispatch(ref.step) { decision.releasedTasks.append(ref) }
            if ref != reported {
                decision.commands.append(.cancelActivity(workflowID: state.workflowID, step: ref.step, attempt: ref.attempt))
            }
        }
        let order = { (ref: AttemptRef) in (definition.stepIndex[ref.step] ?? Int.max, ref.step, ref.attempt) }
        for ref in after.subtracting(before).sorted(by: { order($0) < order($1) }) {
            guard let task = task(for: ref) else { continue }
            decision.commands.append(.dispatch(task))
            if !isStartedOnDispatch(ref.step) { decision.queuedTasks.append(task) }
        }
    }

    mutating func emit(_ kind: EventKind) {
        let event = WorkflowEvent(id: state.lastEventID + 1, time: now, kind: kind)
        let step = kind.step
        let prior = step.map { state.step($0) }
        if let step, let prior, touched[step] == nil { touched[step] = prior }
        state.apply(event, definition: definition)
        pending.append(event)
        if case .timerStarted(let id, _, _, _, _) = kind { armedTimers.append(id) }
        if let step, let prior, !prior.status.isDone, state.step(step).status.isDone {
            if remainingSteps != nil, definition.step(step) != nil { remainingSteps? -= 1 }
            readyCandidates.append(contentsOf: definition.dependents[step] ?? [])
        }
    }

    mutating func arm(_ step: String, attempt: Int, purpose: TimerPurpose, fireAt: Instant) {
        emit(.timerStarted(timer: purpose.timerID(step: step, attempt: attempt), step: step, attempt: attempt, purpose: purpose, fireAt: fireAt))
    }
}

/// The heartbeats of one in-flight attempt that history does not hold yet.
struct HeartbeatMark: Sendable {
    /// When the attempt's last `StepHeartbeat` was recorded.
    var recordedAt: Instant
    /// When its latest heartbeat came.
    var receivedAt: Instant
    /// The latest details not recorded yet.
    var pending: JSONValue?

    init(recordedAt: Instant, receivedAt: Instant, pending: JSONValue? = nil) {
        self.recordedAt = recordedAt
        self.receivedAt = receivedAt
        self.pending = pending
    }
}
