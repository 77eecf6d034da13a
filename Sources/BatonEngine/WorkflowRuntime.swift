import BatonCore
import Synchronization

/// The engine's entry point: registers definitions, starts workflows, feeds them inputs and runs
/// their side effects — each decision committed to the store before anything it decided happens.
///
/// ```swift
/// let clock = ManualClock()
/// let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
/// try await runtime.recover()
/// let ref = try await runtime.register(source: yaml)
/// let id = try await runtime.startWorkflow(ref.name, input: ["product": "Widget"]).id
/// try await runtime.signal(id, name: "approve_campaign", payload: ["approved": true], requestID: "r-1")
/// print(try await runtime.progress(id).percentage, try await runtime.query(id, "output"))
/// for try await update in runtime.subscribe(id) { print(update.progress.currentPhase ?? "-") }
/// let result = try await runtime.awaitCompletion(id)
/// print(result.status, result.state.output)
/// ```
///
/// Cancel (``cancel(_:reason:)``) stops scheduling, stops running attempts and, with
/// `on_failure: compensate`, runs the saga before closing CANCELLED; terminate closes at once.
///
/// With SQLite, use `WorkflowRuntime.open(path:durability:)` from BatonStore.
public final class WorkflowRuntime: Sendable {
    /// The store holding history, snapshots, timers and tasks.
    public let store: any WorkflowStore
    /// Whether the store accepts writes; the server observes it to log failures.
    public let storeHealth: StoreHealth
    /// The injected clock.
    public let clock: any WorkflowClock
    /// Versioned definitions.
    public let registry: DefinitionRegistry
    /// In-process activities (register your own with ``InProcessActivities/register(_:handler:)``).
    public let activities: InProcessActivities
    /// The circuit breakers shared by all workflows (list, reset, observe transitions).
    public let breakers: CircuitBreakerRegistry
    /// Per-activity duration estimates learned from completed attempts (used for ETAs).
    public let durations: ActivityDurationEstimates
    /// What one run may hold (payloads, history, pending signals, subscribers).
    public let limits: RuntimeLimits

    let hub = WorkflowHub()
    /// Runs recovery found unreadable, by id; left untouched in the store.
    private let quarantine = Mutex<[String: UnreadableWorkflow]>([:])

    private let dispatcher: any ActivityDispatcher
    private let shards: [Shard]
    private let timers: TimerService
    private let relay: Relay
    private let idPrefix: String
    private let counter = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let deliveryFailures = Atomic<Int>(0)
    /// Runs to restore after a failed commit (``recoverAfterFailedCommit(_:)``).
    let recovery = Mutex(RecoveryState())

    /// Activity results that could not be recorded (store failure or shutdown). Such an attempt
    /// stays in flight in the store and is re-dispatched, same idempotency key, at the next recovery.
    public var deliveryFailureCount: Int { deliveryFailures.load(ordering: .relaxed) }

    /// Creates a runtime. Call ``recover()`` once before use.
    /// - Parameters:
    ///   - shardCount: number of shard actors partitioning the workflows.
    ///   - dispatcher: where attempts go; defaults to `activities`.
    ///   - breakerPolicies: circuit-breaker policies by key (server configuration), for keys a
    ///     definition does not configure under `circuit_breakers:`.
    ///   - defaultActivityEstimate: the expected duration of an activity never seen completing (ETAs);
    ///     `nil`: none, the ETA stays unknown until history has one.
    ///   - limits: what one run may hold (``RuntimeLimits``).
    public init(
        store: any WorkflowStore, clock: any WorkflowClock, activities: InProcessActivities? = nil,
        dispatcher: (any ActivityDispatcher)? = nil, shardCount: Int = 4,
        breakerPolicies: [String: CircuitBreakerPolicy] = [:], defaultActivityEstimate: Interval? = nil,
        limits: RuntimeLimits = RuntimeLimits()
    ) {
        self.limits = limits
        self.store = store
        self.clock = clock
        let activities = activities ?? InProcessActivities(clock: clock)
        self.activities = activities
        let dispatcher = dispatcher ?? activities
        self.dispatcher = dispatcher
        let health = StoreHealth()
        self.storeHealth = health
        let registry = DefinitionRegistry(store: store, health: health)
        self.registry = registry
        let breakers = CircuitBreakerRegistry(policies: breakerPolicies)
        self.breakers = breakers
        let durations = ActivityDurationEstimates(defaultEstimate: defaultActivityEstimate)
        self.durations = durations
        let hub = self.hub
        shards = (0..<max(1, shardCount)).map { _ in
            Shard(
                store: store, clock: clock, registry: registry, startsOnDispatch: { dispatcher.startsOnDispatch($0) },
                breakers: breakers, hub: hub, estimates: durations, health: health, limits: limits)
        }
        let relay = Relay()
        self.relay = relay
        timers = TimerService(clock: clock) { timer in await relay.fire(timer) }
        var generator = SystemRandomNumberGenerator()
        idPrefix = String(generator.next() & 0xffff_ffff_ffff, radix: 16)
        relay.runtime.withLock { $0 = WeakRuntime(value: self) }
    }

    /// Recovers after a restart: loads open workflows from their snapshots, re-arms their timers and
    /// re-dispatches in-flight attempts with the same idempotency keys. Returns how many were recovered.
    @discardableResult
    public func recover() async throws(BatonError) -> Int {
        durations.load(try await store.activityDurations())
        breakers.restore(try await store.circuitBreakers())
        let scan = try await store.scanOpenWorkflows()
        var recovered = 0
        var unreadable = scan.unreadable
        for stored in scan.workflows {
            let state = stored.state
            let definition: WorkflowDefinition
            do {
                (definition, _) = try await registry.definition(named: state.definitionName, version: state.definitionVersion)
            } catch {
                unreadable.append(UnreadableWorkflow(
                    workflowID: state.workflowID, definitionName: state.definitionName,
                    definitionVersion: state.definitionVersion,
                    error: "its definition \(state.definitionName) v\(state.definitionVersion) cannot be loaded: \(error.message)"))
                continue
            }
            let commands = await shard(for: state.workflowID).recover(state, definition: definition)
            await perform(commands)
            recovered += 1
        }
        quarantine.withLock { quarantine in
            for run in unreadable { quarantine[run.workflowID] = run }
        }
        return recovered
    }

    /// Runs recovery could not read (quarantined: status CORRUPTED, nothing runs), by id.
    public func quarantinedWorkflows() -> [String: UnreadableWorkflow] {
        quarantine.withLock { $0 }
    }

    /// Refuses to act on a quarantined run.
    private func checkNotQuarantined(_ workflowID: String) throws(BatonError) {
        if let run = quarantine.withLock({ $0[workflowID] }) {
            throw BatonError(.failedPrecondition, "workflow '\(workflowID)' is quarantined (CORRUPTED): \(run.error)")
        }
    }

    /// Registers a definition (YAML or JSON text) and returns its name and version.
    public func register(source: String) async throws(BatonError) -> DefinitionRef {
        try await registerDefinition(source: source).ref
    }

    /// Registers a definition and tells whether this call stored it (false: the content was registered already).
    public func registerDefinition(source: String) async throws(BatonError) -> DefinitionRegistration {
        try checkOpen()
        let size = source.utf8.count
        guard size <= limits.definitionBytes else {
            throw BatonError(.invalidArgument, "source: the definition is \(size) bytes, over the limit of "
                + "\(limits.definitionBytes) bytes (definition_bytes)")
        }
        return try await registry.registerDefinition(source: source, now: clock.now(), maxSteps: limits.definitionSteps)
    }

    /// Starts a workflow of definition `name` (latest version unless `version` is given) once
    /// `WorkflowStarted` is committed, and tells whether it started a new run. With an explicit
    /// `workflowID` that exists, `policy` decides: return the existing run (`started == false`),
    /// reject with `.alreadyExists`, or (``IDReusePolicy/allowAfterClose``) start a new run over a closed one.
    /// An existing run of another definition is `.alreadyExists` whatever the policy, unless a new run
    /// replaces it (a closed run under ``IDReusePolicy/allowAfterClose``). An `input` that does not match
    /// the definition's ``WorkflowDefinition/inputSchema`` is `.invalidArgument` on every start, before anything is stored.
    /// The run's root span is a child of `traceParent` (the caller's span), else the root of a new trace.
    public func startWorkflow(
        _ name: String, version: Int? = nil, workflowID: String? = nil, input: JSONValue = .null,
        policy: IDReusePolicy = .returnExisting, traceParent: TraceParent? = nil
    ) async throws(BatonError) -> StartedWorkflow {
        try checkOpen()
        let (definition, pinned): (WorkflowDefinition, Int)
        if let cached = registry.cachedDefinition(named: name, version: version) {
            (definition, pinned) = cached
        } else {
            (definition, pinned) = try await registry.definition(named: name, version: version)
        }
        try definition.inputSchema?.check(input, definition: definition.name, version: pinned)
        let id = workflowID ?? "\(idPrefix)-\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
        if id.isEmpty || id.contains("/") {
            throw BatonError(.invalidArgument, "workflow_id must be non-empty and contain no '/'")
        }
        try checkNotQuarantined(id)
        let runID = RunKey.generate()
        let outcome = try await shard(for: id).start(
            workflowID: id, runID: runID, trace: TraceContext.startingRun(parent: traceParent), checkExisting: workflowID != nil, definition: definition, version: pinned,
            input: input, policy: policy)
        await perform(outcome.commands)
        if outcome.started {
            return StartedWorkflow(id: id, runID: runID, started: true,
                                   definition: DefinitionRef(name: definition.name, version: pinned),
                                   previousRunID: outcome.previousRunID)
        }
        var existing = outcome.existing
        if existing == nil { existing = try await describe(id).state }
        guard let existing else { throw BatonError(.internal, "workflow '\(id)' vanished while starting") }
        // Returning the existing run is only an answer to the same request: a run of another
        // definition under this id is a conflict, not a success.
        if existing.definitionName != definition.name {
            throw BatonError(.alreadyExists,
                             "workflow '\(id)' is a run of definition '\(existing.definitionName)' "
                             + "(\(existing.status.rawValue)), not '\(definition.name)'; pick another id")
        }
        return StartedWorkflow(
            id: id, runID: existing.publicRunID, started: false,
            definition: DefinitionRef(name: existing.definitionName, version: existing.definitionVersion))
    }

    /// Delivers a signal and returns whether it was recorded: `false` when `requestID` was seen before
    /// (the repeat is ignored, also once the run has closed). Throws `.notFound` for unknown and
    /// `.failedPrecondition` for closed workflows (for a new request id).
    @discardableResult
    public func signal(
        _ workflowID: String, name: String, payload: JSONValue = .null, requestID: String? = nil, runID: String? = nil
    ) async throws(BatonError) -> Bool {
        try checkOpen()
        try checkNotQuarantined(workflowID)
        let outcome = try await shard(for: workflowID).handle(
            workflowID, .signal(name: name, payload: payload, requestID: requestID), requireOpen: true,
            expectedRunID: runID)
        await perform(outcome.commands)
        return outcome.recorded
    }

    /// Cancels a running workflow (only the run `runID` when given).
    public func cancel(_ workflowID: String, reason: String = "cancelled", runID: String? = nil) async throws(BatonError) {
        try await deliver(workflowID, .cancel(reason: reason), requireOpen: true, expectedRunID: runID)
    }

    /// Terminates a running workflow at once (only the run `runID` when given).
    public func terminate(_ workflowID: String, reason: String = "terminated", runID: String? = nil) async throws(BatonError) {
        try await deliver(workflowID, .terminate(reason: reason), requireOpen: true, expectedRunID: runID)
    }

    /// Feeds an input to a workflow (used by dispatchers, timers and the transport); with
    /// `expectedRunID`, only to that run (see ``Shard/handle(_:_:requireOpen:expectedRunID:)``).
    public func deliver(
        _ workflowID: String, _ input: WorkflowInput, requireOpen: Bool = false, expectedRunID: String? = nil
    ) async throws(BatonError) {
        try checkOpen()
        try checkNotQuarantined(workflowID)
        let outcome = try await shard(for: workflowID).handle(
            workflowID, input, requireOpen: requireOpen, expectedRunID: expectedRunID)
        await perform(outcome.commands)
    }

    /// Status and current state of a workflow.
    public func describe(_ workflowID: String) async throws(BatonError) -> WorkflowDescription {
        if let run = quarantine.withLock({ $0[workflowID] }) { return run.description }
        guard let state = try await shard(for: workflowID).state(of: workflowID) else {
            throw BatonError(.notFound, "no workflow '\(workflowID)'")
        }
        return WorkflowDescription(state: state)
    }

    /// History events with `id > afterEventID`, at most `limit`.
    public func history(_ workflowID: String, afterEventID: Int64 = 0, limit: Int = Int.max) async throws(BatonError) -> [WorkflowEvent] {
        try await store.history(workflowID, afterEventID: afterEventID, limit: limit)
    }

    /// Waits until the workflow closes and returns its final description; a cancelled caller stops
    /// waiting at once (`.cancelled`).
    public func awaitCompletion(_ workflowID: String) async throws(BatonError) -> WorkflowDescription {
        let shard = shard(for: workflowID)
        await perform(try await shard.restore(workflowID))
        return WorkflowDescription(state: try await shard.awaitClosed(workflowID))
    }

    /// Calls `observer` with every run's events as their transaction commits (logs, metrics, traces).
    /// Set it before serving; it must be quick and must not call back into the runtime.
    public func observeCommittedEvents(_ observer: @escaping @Sendable (CommittedEvents) -> Void) {
        hub.setObserver(observer)
    }

    /// Number of callers waiting in ``awaitCompletion(_:)``.
    public func awaitingCount() async -> Int {
        var total = 0
        for shard in shards { total += await shard.awaitingCount }
        return total
    }

    /// Number of open workflows held in memory (closed ones leave memory).
    public func cachedWorkflowCount() async -> Int {
        var total = 0
        for shard in shards { total += await shard.cachedCount }
        return total
    }

    /// Open runs per definition name (for the `baton_workflows_open` gauge).
    public func openRunCounts() async -> [String: Int] {
        var total: [String: Int] = [:]
        for shard in shards { total.merge(await shard.openCountsByDefinition, uniquingKeysWith: +) }
        return total
    }

    /// Live subscriptions to runs' committed changes (progress and history streams).
    public var streamSubscriberCount: Int { hub.subscriberCount }

    /// Number of armed durable timers.
    public func armedTimerCount() async -> Int {
        await timers.count
    }

    /// Stops timers and refuses further calls; running in-process activities' results are dropped.
    public func shutdown() async {
        closed.store(true, ordering: .sequentiallyConsistent)
        await timers.stop()
        relay.runtime.withLock { $0 = nil }
    }

    func checkOpen() throws(BatonError) {
        if closed.load(ordering: .relaxed) { throw BatonError(.unavailable, "the runtime is shut down") }
    }

    func shard(for workflowID: String) -> Shard {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in workflowID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return shards[Int(hash % UInt64(shards.count))]
    }

    func perform(_ commands: [EngineCommand]) async {
        for command in commands {
            switch command {
            case .dispatch(let task):
                let reporter = ActivityReporter(task: task) { [weak self] input in
                    guard let self, !self.closed.load(ordering: .relaxed) else { return }
                    do {
                        try await self.deliver(task.workflowID, input)
                        self.commitSucceeded(task.workflowID)
                    } catch {
                        self.deliveryFailures.wrappingAdd(1, ordering: .relaxed)
                        if (error as? BatonError)?.code.isStoreFailure == true { self.recoverAfterFailedCommit(task.workflowID) }
                    }
                }
                dispatcher.dispatch(task, reporter: reporter)
            case .cancelActivity(let workflowID, let step, let attempt):
                dispatcher.cancel(AttemptRef(step: step, attempt: attempt), workflowID: workflowID)
            case .startTimer(let timer):
                await timers.schedule(timer)
            case .cancelTimer(let workflowID, let timer):
                await timers.cancel(workflowID: workflowID, timer: timer)
            case .workflowClosed:
                break
            }
        }
    }
}

/// Forwards fired timers to the runtime without a strong reference cycle.
private final class Relay: Sendable {
    let runtime = Mutex<WeakRuntime?>(nil)

    func fire(_ timer: DurableTimer) async {
        guard let target = runtime.withLock({ $0?.value }) else { return }
        do {
            try await target.deliver(timer.workflowID, .timerFired(timer: timer.timer))
        } catch where error.code.isStoreFailure {
            target.recoverAfterFailedCommit(timer.workflowID)
        } catch {}
    }
}

private struct WeakRuntime: Sendable {
    weak var value: WorkflowRuntime?
}
