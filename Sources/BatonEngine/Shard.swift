import BatonCore
import Synchronization

/// One partition of the open workflows. Decisions for a workflow are made on its shard actor, one
/// at a time; each decision is committed before its commands are returned for execution.
///
/// Decisions pipeline on the machine's working state, but readers only ever see a committed state:
/// ``committed`` holds, per open workflow, the state as of its last committed change, advanced by
/// folding each change's events once its transaction has committed.
actor Shard {
    private let store: any WorkflowStore
    private let health: StoreHealth
    private let clock: any WorkflowClock
    private let registry: DefinitionRegistry
    private let startsOnDispatch: @Sendable (String) -> Bool
    private let breakers: CircuitBreakerRegistry
    private let hub: WorkflowHub
    private let estimates: ActivityDurationEstimates
    private let limits: RuntimeLimits
    private var machines: [String: WorkflowMachine] = [:]
    private var starting: Set<String> = []
    /// Callers awaiting a run's close, by workflow id and waiter number (a cancelled waiter leaves at once).
    private var waiters: [String: [Int: CheckedContinuation<WorkflowState?, Never>]] = [:]
    private var nextWaiter = 0
    /// Side effects to restore for open workflows reloaded after an eviction (a failed commit).
    private var restored: [String: [EngineCommand]] = [:]
    /// Events committed since each open workflow's last full snapshot (absent: write one next).
    private var eventsSinceSnapshot: [String: Int] = [:]
    /// The last committed state of each open workflow in memory, and the runs whose start is still
    /// committing — readable without entering the actor, so a read never queues behind decisions.
    private let readable = Mutex(Readable())

    /// What readers see of a shard's open runs.
    struct Readable {
        var states: [String: WorkflowState] = [:]
        var starting: Set<String> = []
    }
    /// Events decided but not yet folded into `committed`, in order, per workflow.
    private var uncommitted: [String: [WorkflowEvent]] = [:]
    /// Callers waiting for a workflow's start to commit (a second start of the same id).
    private var startWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(
        store: any WorkflowStore, clock: any WorkflowClock, registry: DefinitionRegistry,
        startsOnDispatch: @escaping @Sendable (String) -> Bool, breakers: CircuitBreakerRegistry, hub: WorkflowHub,
        estimates: ActivityDurationEstimates, health: StoreHealth, limits: RuntimeLimits
    ) {
        self.limits = limits
        self.health = health
        self.store = store
        self.clock = clock
        self.registry = registry
        self.startsOnDispatch = startsOnDispatch
        self.breakers = breakers
        self.hub = hub
        self.estimates = estimates
    }

    private func machine(_ definition: WorkflowDefinition, _ state: WorkflowState) -> WorkflowMachine {
        var machine = WorkflowMachine(definition: definition, state: state, startsOnDispatch: startsOnDispatch, breakers: breakers)
        machine.historyLimit = limits.historyEvents
        machine.payloadLimit = limits.payloadBytes
        return machine
    }

    /// Number of workflows held in memory.
    var cachedCount: Int { machines.count }

    /// Open runs in memory per definition name.
    var openCountsByDefinition: [String: Int] {
        var counts: [String: Int] = [:]
        for machine in machines.values where machine.state.status == .running { counts[machine.state.definitionName, default: 0] += 1 }
        return counts
    }

    /// Starts a workflow as the run `runID`. When `workflowID` already exists and `policy` returns it,
    /// no commands are returned and `existing` holds the existing run's state (`nil` while its start is
    /// still committing). A new run over a closed one archives that run under ``RunKey/archived(_:runID:)``
    /// and returns its run id as `previousRunID`.
    func start(
        workflowID: String, runID: String, trace: TraceContext, checkExisting: Bool, definition: WorkflowDefinition, version: Int,
        input: JSONValue, policy: IDReusePolicy
    ) async throws(BatonError) -> (commands: [EngineCommand], started: Bool, existing: WorkflowState?, previousRunID: String?) {
        var archive: String?
        var previousRunID: String?
        if checkExisting {
            if machines[workflowID] != nil {
                try reuse(workflowID, policy: policy)
                return ([], false, try await committedState(workflowID), nil)
            }
            if starting.contains(workflowID) {
                try reuse(workflowID, policy: policy)
                return ([], false, nil, nil)
            }
            starting.insert(workflowID)
            defer { starting.remove(workflowID) }
            let stored = try await store.loadWorkflow(workflowID)
            if machines[workflowID] != nil {
                try reuse(workflowID, policy: policy)
                return ([], false, try await committedState(workflowID), nil)
            }
            if let stored {
                let closed = stored.state.status.isClosed
                try reuse(workflowID, policy: policy)
                if !(closed && policy == .allowAfterClose) { return ([], false, stored.state, nil) }
                previousRunID = stored.state.publicRunID
                archive = RunKey.archived(workflowID, runID: stored.state.publicRunID)
            }
        }
        let (machine, decision) = WorkflowMachine.start(
            workflowID: workflowID, runID: runID, trace: trace, definition: definition, version: version, input: input, now: clock.now(),
            startsOnDispatch: startsOnDispatch, breakers: breakers, limits: limits)
        machines[workflowID] = machine
        readable.withLock { _ = $0.starting.insert(workflowID) }
        let commands = try await commit(workflowID, decision, isNew: true, archive: archive)
        return (commands, true, nil, previousRunID)
    }

    /// Applies the reuse policy to an existing run: throws `.alreadyExists` when it forbids returning it.
    private func reuse(_ workflowID: String, policy: IDReusePolicy) throws(BatonError) {
        switch policy {
        case .returnExisting: return
        case .allowAfterClose: return
        case .reject: throw BatonError(.alreadyExists, "workflow '\(workflowID)' already exists")
        }
    }

    /// Decides on `input` for `workflowID` and commits. Throws `.notFound` for unknown workflows and
    /// `.failedPrecondition` for closed ones when `requireOpen` is set (except a signal repeating a
    /// request id the closed run recorded: not recorded, no error).
    /// `recorded` tells whether the input changed anything (false e.g. for a repeated signal request id).
    /// With `expectedRunID`, the input is for that run only: when the id's latest run is another one
    /// (the named run closed and a new run took the id), it is refused like any input to a closed run.
    func handle(
        _ workflowID: String, _ input: WorkflowInput, requireOpen: Bool, expectedRunID: String? = nil
    ) async throws(BatonError) -> (commands: [EngineCommand], recorded: Bool) {
        let open = try await ensureLoaded(workflowID)
        if open, let expectedRunID, let current = machines[workflowID]?.state.publicRunID, current != expectedRunID {
            throw BatonError(.failedPrecondition,
                             "run '\(expectedRunID)' of workflow '\(workflowID)' is closed; the id's latest run is '\(current)'")
        }
        guard open else {
            if requireOpen {
                guard let stored = try await store.loadWorkflow(workflowID) else {
                    throw BatonError(.notFound, "no workflow '\(workflowID)'")
                }
                // A retried signal whose request id the run already recorded was applied: the retry is
                // answered "not recorded" (accepted = false), not an error, so a client's retry loop is safe.
                if case .signal(_, _, let requestID?) = input, stored.state.signalRequestIDs.contains(requestID) {
                    return ([], false)
                }
                let (id, archivedRun) = RunKey.split(workflowID)
                let what = archivedRun.map { "run '\($0)' of workflow '\(id)'" } ?? "workflow '\(id)'"
                throw BatonError(
                    .failedPrecondition,
                    "\(what) is closed (\(stored.state.status.rawValue)); it accepts no more signals, cancels or terminates")
            }
            return ([], false)
        }
        if case .signal(let name, _, _) = input, let machine = machines[workflowID],
           machine.state.pendingSignals.count >= limits.pendingSignals, !machine.isWaiting(forSignal: name) {
            let (id, _) = RunKey.split(workflowID)
            throw BatonError(.resourceExhausted, "workflow '\(NameRule.printable(id))' holds \(machine.state.pendingSignals.count) "
                + "signals no wait step consumed yet; \(RuntimeLimits.reached("pending_signals", limits.pendingSignals))")
        }
        // Decide in place: copying the machine out of the dictionary would make every decision
        // copy the state's collections (copy-on-write).
        guard let decision = machines[workflowID]?.decide(input, now: clock.now()) else { return ([], false) }
        let restoredCommands = takeRestored(workflowID)
        guard !decision.events.isEmpty else {
            breakers.cancel(decision.breakerReservations)
            return (restoredCommands, false)
        }
        let commands = try await commit(workflowID, decision, isNew: false, archive: nil)
        return (restoredCommands + commands, true)
    }

    /// Loads `workflowID` if it was evicted and returns the commands that restore its side effects
    /// (re-dispatch of in-flight attempts with their idempotency keys, re-armed timers).
    func restore(_ workflowID: String) async throws(BatonError) -> [EngineCommand] {
        guard try await ensureLoaded(workflowID) else { return [] }
        return takeRestored(workflowID)
    }

    /// Pending restore commands of `workflowID`, without dispatches for attempts no longer in flight.
    private func takeRestored(_ workflowID: String) -> [EngineCommand] {
        guard let commands = restored.removeValue(forKey: workflowID), let machine = machines[workflowID] else { return [] }
        let inFlight = Set(machine.state.inFlightAttempts(definition: machine.definition))
        return commands.filter { command in
            if case .dispatch(let task) = command { return inFlight.contains(AttemptRef(step: task.step, attempt: task.attempt)) }
            return true
        }
    }

    /// Puts a recovered open workflow into memory and returns the commands that restore its side effects.
    func recover(_ state: WorkflowState, definition: WorkflowDefinition) -> [EngineCommand] {
        let machine = machine(definition, state)
        machines[state.workflowID] = machine
        readable.withLock { $0.states[state.workflowID] = state }
        return machine.recoveryCommands()
    }

    /// The last committed state: from memory when open, else from the store; `nil` for an unknown
    /// workflow or one whose start has not committed yet. Never a decision still committing.
    nonisolated func state(of workflowID: String) async throws(BatonError) -> WorkflowState? {
        let (state, starting) = readable.withLock { ($0.states[workflowID], $0.starting.contains(workflowID)) }
        if let state { return state }
        if starting { return nil }
        return try await store.loadWorkflow(workflowID)?.state
    }

    /// The committed state of a workflow whose start may still be committing: waits for that commit.
    private func committedState(_ workflowID: String) async throws(BatonError) -> WorkflowState? {
        while machines[workflowID] != nil, readable.withLock({ $0.starting.contains(workflowID) }) {
            await withCheckedContinuation { startWaiters[workflowID, default: []].append($0) }
        }
        return try await state(of: workflowID)
    }

    /// Suspends until the workflow is closed and returns its final state.
    func awaitClosed(_ workflowID: String) async throws(BatonError) -> WorkflowState {
        // An open workflow in memory closes only when its closing change commits (then it leaves memory).
        guard try await ensureLoaded(workflowID), machines[workflowID] != nil else {
            guard let stored = try await store.loadWorkflow(workflowID) else {
                throw BatonError(.notFound, "no workflow '\(workflowID)'")
            }
            return stored.state
        }
        let number = nextWaiter
        nextWaiter += 1
        let closed: WorkflowState? = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { return continuation.resume(returning: nil) }
                waiters[workflowID, default: [:]][number] = continuation
            }
        } onCancel: {
            Task { await self.dropWaiter(workflowID, number) }
        }
        guard let closed else {
            throw BatonError(.cancelled, "stopped waiting for workflow '\(workflowID)' to close: the caller went away")
        }
        return closed
    }

    /// Resumes a cancelled waiter with nothing, so an abandoned await holds no memory until the run closes.
    private func dropWaiter(_ workflowID: String, _ number: Int) {
        guard let continuation = waiters[workflowID]?.removeValue(forKey: number) else { return }
        if waiters[workflowID]?.isEmpty == true { waiters[workflowID] = nil }
        continuation.resume(returning: nil)
    }

    /// Number of callers awaiting runs' close (tests: an abandoned await leaves no waiter behind).
    var awaitingCount: Int { waiters.values.reduce(0) { $0 + $1.count } }

    /// Makes sure an open workflow is in memory (loading its snapshot and queueing its restore commands
    /// on a miss). False when it does
    /// not exist or is closed. Never copies a cached machine (copies would defeat in-place decisions).
    private func ensureLoaded(_ workflowID: String) async throws(BatonError) -> Bool {
        if machines[workflowID] != nil { return true }
        guard let stored = try await store.loadWorkflow(workflowID) else { return false }
        if machines[workflowID] != nil { return true }
        guard !stored.state.status.isClosed else { return false }
        let (definition, _) = try await registry.definition(
            named: stored.state.definitionName, version: stored.state.definitionVersion)
        if machines[workflowID] != nil { return true }
        // Every open workflow is in memory from recovery on, so a miss means it was evicted after a
        // failed commit: whatever it had in flight must be restored.
        let machine = machine(definition, stored.state)
        machines[workflowID] = machine
        readable.withLock { $0.states[workflowID] = stored.state }
        restored[workflowID] = machine.recoveryCommands()
        return true
    }

    /// Commits the decision just made on `workflowID`'s machine. The change is built from the machine's
    /// state before suspending and holds no reference to it while it commits (only a summary, unless it
    /// carries the full snapshot): later decisions on the same machine never copy the whole state.
    private func commit(
        _ workflowID: String, _ decision: Decision, isNew: Bool, archive: String?
    ) async throws(BatonError) -> [EngineCommand] {
        guard let (change, closedState) = makeChange(workflowID, decision, isNew: isNew, archive: archive) else {
            breakers.cancel(decision.breakerReservations)
            evict(workflowID)
            throw BatonError(.internal, "workflow '\(workflowID)' left memory before its decision was committed")
        }
        // A new run's first committed state (its change may carry only a summary).
        let startState = isNew ? machines[workflowID]?.state : nil
        if !isNew { uncommitted[workflowID, default: []].append(contentsOf: decision.events) }
        do {
            try await store.commit(change, isolation: self)
        } catch {
            breakers.cancel(decision.breakerReservations)
            evict(workflowID)
            health.failed(error, workflowID: workflowID)
            throw error
        }
        health.succeeded()
        breakers.confirm(decision.breakerReservations)
        estimates.record(decision.durationSamples)
        let newlyCommitted = advanceCommitted(workflowID, change, startState: startState)
        if decision.closedStatus != nil {
            machines[workflowID] = nil
            readable.withLock { $0.states[workflowID] = nil }
            uncommitted[workflowID] = nil
            if let closedState {
                hub.observe(workflowID, events: newlyCommitted, state: closedState)
                hub.committed(workflowID, events: newlyCommitted, state: closedState)
                hub.runs.changed(closedState.listSummary)
                for waiter in (waiters.removeValue(forKey: workflowID) ?? [:]).values { waiter.resume(returning: closedState) }
            }
        } else if hub.isObserved || hub.isWatched(workflowID), let state = readable.withLock({ $0.states[workflowID] }) {
            hub.observe(workflowID, events: newlyCommitted, state: state)
            if hub.isWatched(workflowID) { hub.committed(workflowID, events: newlyCommitted, state: state) }
        }
        if decision.closedStatus == nil, let startState { hub.runs.changed(startState.listSummary) }
        return decision.commands
    }

    /// Moves the committed state of `workflowID` up to the end of `change` (whose transaction has just
    /// committed, and with it every change submitted before it) and returns the events that became
    /// visible. Commits of one workflow may resume out of order; events already folded are skipped.
    private func advanceCommitted(_ workflowID: String, _ change: WorkflowChange, startState: WorkflowState?) -> [WorkflowEvent] {
        defer {
            for waiter in startWaiters.removeValue(forKey: workflowID) ?? [] { waiter.resume() }
        }
        let end = change.state.lastEventID
        if change.isNew {
            let state = startState ?? change.state
            readable.withLock { readable in
                readable.states[workflowID] = state
                readable.starting.remove(workflowID)
            }
            return change.events
        }
        guard let at = readable.withLock({ $0.states[workflowID]?.lastEventID }), at < end else { return [] }
        var pending = uncommitted.removeValue(forKey: workflowID) ?? []
        let split = pending.firstIndex { $0.id > end } ?? pending.endIndex
        let visible = Array(pending[..<split].drop { $0.id <= at })
        pending.removeFirst(split)
        if !pending.isEmpty { uncommitted[workflowID] = pending }
        if change.includesSnapshot {
            readable.withLock { $0.states[workflowID] = change.state }
        } else if let definition = machines[workflowID]?.definition {
            readable.withLock { readable in
                // Taken out while folding, so the fold is in place (no copy of the state's collections)
                // unless a reader still holds this state.
                guard var state = readable.states.removeValue(forKey: workflowID) else { return }
                for event in visible { state.apply(event, definition: definition) }
                readable.states[workflowID] = state
            }
        }
        return visible
    }

    /// Forgets an open workflow after a failed commit (it is reloaded from the store when next needed).
    private func evict(_ workflowID: String) {
        machines[workflowID] = nil
        readable.withLock { readable in
            readable.states[workflowID] = nil
            readable.starting.remove(workflowID)
        }
        uncommitted[workflowID] = nil
        eventsSinceSnapshot[workflowID] = nil
        for waiter in startWaiters.removeValue(forKey: workflowID) ?? [] { waiter.resume() }
    }

    /// The change of the decision just made (with a full snapshot once the events since the last one
    /// are as many as the run has steps, at least 64, and at a close after more than 64; a store that
    /// does not fold history tails gets one every time), and the final state when it closes.
    private func makeChange(_ workflowID: String, _ decision: Decision, isNew: Bool, archive: String?)
        -> (WorkflowChange, WorkflowState?)? {
        guard let state = machines[workflowID]?.state else { return nil }
        let since = (isNew ? 0 : (eventsSinceSnapshot[workflowID] ?? .max / 2)) + decision.events.count
        // A closed run is read from the store on every read: it keeps a tail of at most 64 events.
        let full = !store.foldsHistoryTails || since >= max(64, state.steps.count) || (state.status.isClosed && since > 64)
        eventsSinceSnapshot[workflowID] = state.status.isClosed ? nil : (full ? 0 : since)
        var change = WorkflowChange(state: state, decision: decision, isNew: isNew, includesSnapshot: full)
        change.archiveClosedRunAs = archive
        if !decision.touchedBreakers.isEmpty { change.circuitBreakers = breakers.snapshots(decision.touchedBreakers) }
        return (change, state.status.isClosed ? state : nil)
    }
}
