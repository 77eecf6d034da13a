import BatonCore
import BatonEngine
import Logging
import NIOCore

/// Exports every run's spans over OTLP/HTTP (protobuf): the spans the ``ObservationPump`` built
/// (``SpanBuilder``) are queued, and sent in batches at least once a second and at shutdown. A slow or unreachable collector never slows workflows: the queues are bounded,
/// what does not fit or cannot be sent is dropped and counted (`baton_trace_spans_dropped_total`),
/// and failures are logged once, then at most once a minute with the count of suppressed failures.
actor TraceExporter {
    private let client: OTLPHTTPClient
    private let metrics: ServerMetrics
    private let logger: Logger
    private let batches: AsyncStream<[FinishedSpan]>
    private let input: AsyncStream<[FinishedSpan]>.Continuation
    private var pending: [FinishedSpan] = []
    private var exporting = false
    private var failures = LogThrottle(interval: .seconds(60))
    private var failedExports = 0
    private var consumer: Task<Void, Never>?
    private var ticker: Task<Void, Never>?

    /// Lists of spans (one per ``ObservationPump`` tick) waiting to be added, at most.
    static let maxQueuedBatches = 1_024
    /// Spans waiting for export, at most.
    static let maxPendingSpans = 16_384
    /// Spans per export request.
    static let maxSpansPerExport = 2_048

    init(endpoint: OTLPEndpoint, metrics: ServerMetrics, logger: Logger, group: any EventLoopGroup) {
        client = OTLPHTTPClient(endpoint: endpoint, group: group)
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

    /// Queues `spans` for export (from the ``ObservationPump``: never waits).
    nonisolated func enqueue(_ spans: [FinishedSpan]) {
        if case .dropped(let list) = input.yield(spans) { metrics.recordDroppedSpans(list.count, reason: "queue_full") }
    }

    /// Counts the spans of a batch that found no room in the pump's queue as dropped.
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

    /// Adds queued spans to the next export, on the actor (one hop per tick).
    private func consume() async {
        for await spans in batches {
            add(spans)
            if pending.count >= Self.maxSpansPerExport { await flush() }
        }
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
