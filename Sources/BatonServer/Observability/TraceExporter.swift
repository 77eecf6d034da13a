import BatonCore
import BatonEngine
import Logging
import NIOCore

/// Exports every run's spans over OTLP/HTTP (protobuf): committed events are queued (never blocking
/// a commit), turned into spans per run (``RunSpans``), and sent in batches at least once a second
/// and at shutdown. A slow or unreachable collector never slows workflows: the queues are bounded,
/// what does not fit or cannot be sent is dropped and counted (`baton_trace_spans_dropped_total`),
/// and failures are logged once, then at most once a minute with the count of suppressed failures.
///
/// After a restart, a run first seen mid-way is rebuilt from its history before its new events
/// are applied, so its spans keep their ids and parent (one trace across the restart).
actor TraceExporter {
    private let client: OTLPHTTPClient
    private let runtime: WorkflowRuntime
    private let metrics: ServerMetrics
    private let logger: Logger
    private let batches: AsyncStream<[CommittedEvents]>
    private let input: AsyncStream<[CommittedEvents]>.Continuation
    private var runs: [String: RunSpans] = [:]
    private var pending: [FinishedSpan] = []
    private var exporting = false
    private var failures = LogThrottle(interval: .seconds(60))
    private var failedExports = 0
    private var consumer: Task<Void, Never>?
    private var ticker: Task<Void, Never>?

    /// Lists of batches (one per ``ObservationPump`` tick) waiting to become spans, at most.
    static let maxQueuedBatches = 1_024
    /// Spans waiting for export, at most.
    static let maxPendingSpans = 16_384
    /// Spans per export request.
    static let maxSpansPerExport = 2_048

    init(endpoint: OTLPEndpoint, runtime: WorkflowRuntime, metrics: ServerMetrics, logger: Logger, group: any EventLoopGroup) {
        client = OTLPHTTPClient(endpoint: endpoint, group: group)
        self.runtime = runtime
        self.metrics = metrics
        self.logger = logger
        (batches, input) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(Self.maxQueuedBatches))
    }

    /// Starts consuming batches and exporting every second.
    func start() {
        consumer = Task { await self.consume() }
        ticker = Task { [weak self] in
            while true {
                do { try await Task.sleep(for: .seconds(1)) } catch { return }
                await self?.flush()
            }
        }
    }

    /// Queues `batches` (from the ``ObservationPump``: never waits).
    nonisolated func enqueue(_ batches: [CommittedEvents]) {
        if case .dropped(let list) = input.yield(batches) { list.forEach(dropped) }
    }

    /// Counts the spans `batch` would have made as dropped (no room to queue it).
    nonisolated func dropped(_ batch: CommittedEvents) {
        if batch.trace != nil { metrics.recordDroppedSpans(batch.events.count, reason: "queue_full") }
    }

    /// Turns what is queued into spans and exports them (bounded by `deadline`), then stops.
    func shutdown(deadline: Duration = .seconds(3)) async {
        input.finish()
        ticker?.cancel()
        await ticker?.value  // an export in progress finishes first
        let consumer = consumer
        let drained = Task { await consumer?.value }
        let timeout = Task {
            try? await Task.sleep(for: deadline)
            drained.cancel()
        }
        await drained.value
        timeout.cancel()
        while !pending.isEmpty, !Task.isCancelled {
            let before = pending.count
            await flush()
            if pending.count >= before { break }
        }
    }

    /// Turns queued batches into spans, on the actor (no hop per batch).
    private func consume() async {
        for await list in batches {
            for batch in list { await ingest(batch) }
        }
    }

    private func ingest(_ batch: CommittedEvents) async {
        guard let trace = batch.trace else { return }
        if runs[batch.workflowID] == nil {
            guard let spans = await rebuild(batch, trace: trace) else { return }
            runs[batch.workflowID] = spans
        }
        var closed = false
        for event in batch.events {
            // Mutated in place (a copy out of the dictionary would copy the run's open spans each time).
            guard let ended = runs[batch.workflowID]?.apply(event) else { break }
            if ended.last?.spanID == trace.spanID { closed = true }
            if trace.sampled, !ended.isEmpty { add(ended) }
        }
        if closed { runs[batch.workflowID] = nil }
        if pending.count >= Self.maxSpansPerExport { await flush() }
    }

    /// The run's builder: new for a run that starts in `batch`, else rebuilt from the history before it.
    private func rebuild(_ batch: CommittedEvents, trace: TraceContext) async -> RunSpans? {
        let registry = runtime.registry
        let ref = batch.definition
        var definition = registry.cachedDefinition(named: ref.name, version: ref.version)?.0
        if definition == nil { definition = try? await registry.definition(named: ref.name, version: ref.version).0 }
        var spans = RunSpans(trace: trace, workflowID: RunKey.split(batch.workflowID).0, runID: batch.runID,
                             definition: batch.definition, steps: definition, start: batch.startedAt ?? .epoch)
        guard let first = batch.events.first, first.id > 1 else { return spans }
        do {
            for event in try await runtime.history(batch.workflowID, afterEventID: 0, limit: Int(first.id - 1)) {
                _ = spans.apply(event)  // exported before the restart
            }
        } catch {
            logger.warning("trace spans of a run cannot be rebuilt from its history; its earlier spans are missing",
                           metadata: ["workflow_id": .string(batch.workflowID), "error": .string("\(error)")])
        }
        return spans
    }

    private func add(_ spans: [FinishedSpan]) {
        let room = Self.maxPendingSpans - pending.count
        if spans.count > room { metrics.recordDroppedSpans(spans.count - max(0, room), reason: "queue_full") }
        pending += spans.prefix(max(0, room))
    }

    /// Sends what is pending (one request at a time).
    func flush() async {
        guard !exporting, !pending.isEmpty else { return }
        exporting = true
        defer { exporting = false }
        while !pending.isEmpty {
            let batch = Array(pending.prefix(Self.maxSpansPerExport))
            pending.removeFirst(batch.count)
            let body = OTLPEncoder.exportRequest(batch, serviceVersion: AdminService.version)
            do {
                let status = try await client.post(body)
                guard (200..<300).contains(status) else { throw CollectorRefused(status: status) }
                if failedExports > 0 {
                    logger.notice("trace export recovered", metadata: [
                        "endpoint": .string("\(client.endpoint)"), "failures": .stringConvertible(failedExports),
                    ])
                    failedExports = 0
                    _ = failures.reset()
                }
            } catch {
                metrics.recordDroppedSpans(batch.count, reason: "export_failed")
                failedExports += 1
                if let suppressed = failures.admit() {
                    logger.warning("trace export failed; spans are dropped until the collector answers", metadata: [
                        "endpoint": .string("\(client.endpoint)"), "error": .string("\(error)"),
                        "spans": .stringConvertible(batch.count), "suppressed": .stringConvertible(suppressed),
                    ])
                }
                return  // the rest waits for the next tick
            }
        }
    }

    /// A collector's non-2xx answer.
    struct CollectorRefused: Error, CustomStringConvertible {
        var status: Int
        var description: String { "the collector answered HTTP \(status)" }
    }
}
