import BatonCore
import BatonEngine
import BatonRPC
import Prometheus
import Synchronization

/// The server's Prometheus metrics (served at `GET /metrics`), on swift-prometheus: runs, activity
/// attempts, circuit breakers, sagas and signals from the committed events; RPCs from the transport;
/// commits from the store; task queues, open runs and stream subscribers read when scraped.
///
/// Label values are bounded: definition names, activity types, breaker keys, declared signal names,
/// served methods and task queues — never a workflow id. Every family carries help text.
public final class ServerMetrics: Sendable {
    /// The registry the families live in.
    public let registry = PrometheusCollectorRegistry()
    private let definitions: DefinitionRegistry
    private let state = Mutex(State())

    struct State {
        /// Started attempts by run, then `step/attempt`: when they started (activity durations).
        var startedAttempts: [String: [Attempt: Instant]] = [:]
        /// Series already made, by family and label values (the registry's own lookup validates
        /// names and labels on every call; this one is a single hash).
        var counters: [String: Counter] = [:]
        var durationHistograms: [String: DurationHistogram] = [:]
        var valueHistograms: [String: ValueHistogram] = [:]
        /// The task-queue gauges of the last scrape, by queue.
        var queueGauges: [String: (depth: Gauge, pollers: Gauge)] = [:]
        /// The open-runs gauges of the last scrape, by definition.
        var openGauges: [String: Gauge] = [:]
        /// Activity types by step, per definition version (definitions never change once published).
        var activities: [DefinitionRef: [String: String]] = [:]
    }

    /// A step's attempt.
    struct Attempt: Hashable {
        var step: String
        var number: Int
    }

    /// Most task queues reported (the busiest); bounds the label values a poller can create.
    static let maxReportedQueues = 1_000

    /// Creates the families; `definitions` resolves steps to their activity types.
    public init(definitions: DefinitionRegistry) {
        self.definitions = definitions
        // Families that exist from the start, so a scrape shows them before the first sample.
        _ = registry.makeGauge(descriptor: Self.streamSubscribers.descriptor)
        _ = durationHistogram(Self.storeCommitSeconds, [], buckets: Self.commitBuckets)
        _ = valueHistogram(Self.storeBatchChanges, [], buckets: Self.batchBuckets)
    }

    // MARK: - Transport and store

    /// Counts a finished RPC (`grpc_server_handled_total`, `grpc_server_handling_seconds`).
    public func record(_ call: FinishedCall) {
        let service = call.service.isEmpty ? "unknown" : call.service
        let method = call.method.isEmpty ? "unknown" : call.method
        counter(Self.grpcHandled, [
            ("grpc_service", service), ("grpc_method", method), ("grpc_code", Self.grpcCodeName(call.code)),
        ]).increment()
        durationHistogram(Self.grpcHandlingSeconds, [("grpc_service", service), ("grpc_method", method)], buckets: Self.rpcBuckets
        ).record(call.duration)
    }

    /// Records one committed store transaction.
    public func recordCommit(duration: Duration, changes: Int) {
        durationHistogram(Self.storeCommitSeconds, [], buckets: Self.commitBuckets).record(duration)
        valueHistogram(Self.storeBatchChanges, [], buckets: Self.batchBuckets).record(Double(changes))
    }

    /// Records a circuit-breaker transition (counter and state gauge).
    public func record(_ transition: CircuitBreakerTransition) {
        counter(Self.breakerTransitions, [
            ("breaker", transition.key), ("from", Self.stateName(transition.from)), ("to", Self.stateName(transition.to)),
        ]).increment()
        setBreakerState(transition.key, transition.to)
    }

    /// Sets a breaker's state gauge (0 closed, 1 half-open, 2 open).
    public func setBreakerState(_ key: String, _ state: CircuitState) {
        let value: Double = switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
        registry.makeGauge(descriptor: Self.breakerState.descriptor, labels: [("breaker", key)]).set(value)
    }

    /// Counts spans the trace exporter dropped, by reason (`queue_full`, `export_failed`).
    public func recordDroppedSpans(_ count: Int, reason: String) {
        counter(Self.spansDropped, [("reason", reason)]).increment(by: Int64(count))
    }

    // MARK: - Scrape

    /// The exposition text: gauges read from `runtime` and `queues` first.
    public func scrape(runtime: WorkflowRuntime, queues: TaskQueueDispatcher) async -> [UInt8] {
        let open = await runtime.openRunCounts()
        let statistics = queues.queueStatistics()
            .sorted { ($0.value.depth + $0.value.pollers, $1.key) > ($1.value.depth + $1.value.pollers, $0.key) }
            .prefix(Self.maxReportedQueues)
        registry.makeGauge(descriptor: Self.streamSubscribers.descriptor).set(Double(runtime.streamSubscriberCount))
        state.withLock { state in
            var gauges: [String: Gauge] = [:]
            for (definition, count) in open {
                let gauge = state.openGauges[definition]
                    ?? registry.makeGauge(descriptor: Self.workflowsOpen.descriptor, labels: [("workflow_type", definition)])
                gauge.set(Double(count))
                gauges[definition] = gauge
            }
            // A definition with no open run reads 0 (kept: the series stays continuous).
            for (definition, gauge) in state.openGauges where gauges[definition] == nil {
                gauge.set(Double(0))
                gauges[definition] = gauge
            }
            state.openGauges = gauges
            var queueGauges: [String: (depth: Gauge, pollers: Gauge)] = [:]
            for (queue, counts) in statistics {
                let pair = state.queueGauges[queue] ?? (
                    registry.makeGauge(descriptor: Self.queueDepth.descriptor, labels: [("task_queue", queue)]),
                    registry.makeGauge(descriptor: Self.queuePollers.descriptor, labels: [("task_queue", queue)]))
                pair.depth.set(Double(counts.depth))
                pair.pollers.set(Double(counts.pollers))
                queueGauges[queue] = pair
            }
            // Idle queues leave the exposition (pollers can name any queue: no unbounded series).
            for (queue, pair) in state.queueGauges where queueGauges[queue] == nil {
                registry.unregisterGauge(pair.depth)
                registry.unregisterGauge(pair.pollers)
            }
            state.queueGauges = queueGauges
        }
        return registry.emitToBuffer()
    }

    // MARK: - Names

    static func grpcCodeName(_ code: RPCStatusCode) -> String {
        let names = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
                     "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
                     "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"]
        return code.rawValue >= 0 && code.rawValue < names.count ? names[code.rawValue] : "Unknown"
    }

    static func stateName(_ state: CircuitState) -> String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }

    /// The activity type of `step` (nil for other kinds), from a per-definition table made once.
    func activity(of step: String, in definition: DefinitionRef) -> String? {
        if let table = state.withLock({ $0.activities[definition] }) { return table[step] }
        guard let (found, _) = definitions.cachedDefinition(named: definition.name, version: definition.version) else {
            return nil
        }
        var table: [String: String] = [:]
        for candidate in found.steps {
            if let activity = candidate.activity { table[candidate.name] = activity }
        }
        state.withLock { $0.activities[definition] = table }
        return table[step]
    }

    func declaresSignal(_ name: String, in definition: DefinitionRef) -> Bool {
        guard let (found, _) = definitions.cachedDefinition(named: definition.name, version: definition.version) else {
            return false
        }
        return found.steps.contains { step in
            if case .waitForSignal(let wait) = step.kind { return wait.name == name }
            return false
        }
    }

    /// The counter of `family` with `labels`, made once.
    func counter(_ family: Family, _ labels: [(String, String)]) -> Counter {
        let key = Self.key(family, labels)
        if let found = state.withLock({ $0.counters[key] }) { return found }
        let made = registry.makeCounter(descriptor: family.descriptor, labels: labels)
        state.withLock { $0.counters[key] = made }
        return made
    }

    /// The duration histogram of `family` with `labels`, made once.
    func durationHistogram(_ family: Family, _ labels: [(String, String)], buckets: [Duration]) -> DurationHistogram {
        let key = Self.key(family, labels)
        if let found = state.withLock({ $0.durationHistograms[key] }) { return found }
        let made = labels.isEmpty
            ? registry.makeDurationHistogram(descriptor: family.descriptor, buckets: buckets)
            : registry.makeDurationHistogram(descriptor: family.descriptor, labels: labels, buckets: buckets)
        state.withLock { $0.durationHistograms[key] = made }
        return made
    }

    /// The value histogram of `family` with `labels`, made once.
    func valueHistogram(_ family: Family, _ labels: [(String, String)], buckets: [Double]) -> ValueHistogram {
        let key = Self.key(family, labels)
        if let found = state.withLock({ $0.valueHistograms[key] }) { return found }
        let made = registry.makeValueHistogram(descriptor: family.descriptor, buckets: buckets)
        state.withLock { $0.valueHistograms[key] = made }
        return made
    }

    private static func key(_ family: Family, _ labels: [(String, String)]) -> String {
        var key = family.name
        for (_, value) in labels {
            key += "\u{1F}"
            key += value
        }
        return key
    }

    func withState<T>(_ body: (inout State) -> T) -> T {
        state.withLock { body(&$0) }
    }
}
