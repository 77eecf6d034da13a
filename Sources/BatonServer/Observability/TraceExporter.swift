import BatonCore
import BatonEngine
import Logging
import NIOCore

/// Exports every run's spans over OTLP/HTTP (protobuf): the spans the ``ObservationPump`` built
/// (``SpanBuilder``) are encoded on its thread and queued as bytes, and sent in batches at least
/// once a second and at shutdown. A slow or unreachable collector never slows workflows: the queues are bounded,
/// what does not fit or cannot be sent is dropped and counted (`baton_trace_spans_dropped_total`),
/// and failures are logged once, then at most once a minute with the count of suppressed failures.
actor TraceExporter {
    private let client: OTLPHTTPClient
    private let metrics: ServerMetrics
    private let logger: Logger
    private let batches: AsyncStream<EncodedSpans>
    private let input: AsyncStream<EncodedSpans>.Continuation
    private var pending: [EncodedSpans] = []
    private var pendingCount = 0
    private var exporting = false
    private var failures = LogThrottle(interval: .seconds(60))
    private var failedExports = 0
    private var consumer: Task<Void, Never>?
    private var ticker: Task<Void, Never>?

    /// Spans encoded for a request (``OTLPEncoder/encodedSpans(_:)``) and how many they are.
    struct EncodedSpans: Sendable {
        var bytes: [UInt8]
        var count: Int
    }

    /// Chunks of spans (at least one per ``ObservationPump`` tick) waiting to be added, at most.
    static let maxQueuedBatches = 1_024
    /// Spans waiting for export, at most.
    static let maxPendingSpans = 16_384
    /// Spans per export request (and per chunk), at most.
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

    /// Encodes `spans` (on the calling thread, the ``ObservationPump``'s) and queues them for export,
    /// in chunks of at most ``maxSpansPerExport``; never waits.
    nonisolated func enqueue(_ spans: [FinishedSpan]) {
        var start = spans.startIndex
        while start < spans.endIndex {
            let end = min(start + Self.maxSpansPerExport, spans.endIndex)
            let chunk = EncodedSpans(bytes: OTLPEncoder.encodedSpans(spans[start..<end]), count: end - start)
            if case .dropped(let dropped) = input.yield(chunk) { metrics.recordDroppedSpans(dropped.count, reason: "queue_full") }
            start = end
        }
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
            let before = pendingCount
            await flush()
            if pendingCount >= before { break }
        }
    }

    /// Adds queued spans to the next export, on the actor (one hop per tick).
    private func consume() async {
        for await chunk in batches {
            add(chunk)
            if pendingCount >= Self.maxSpansPerExport { await flush() }
        }
    }

    /// Adds `chunk` to what waits for export; a chunk that does not fit is dropped whole (counted).
    private func add(_ chunk: EncodedSpans) {
        guard pendingCount + chunk.count <= Self.maxPendingSpans else {
            metrics.recordDroppedSpans(chunk.count, reason: "queue_full")
            return
        }
        pending.append(chunk)
        pendingCount += chunk.count
    }

    /// Sends what is pending (one request at a time).
    func flush() async {
        guard !exporting, !pending.isEmpty else { return }
        exporting = true
        defer { exporting = false }
        while !pending.isEmpty {
            // Whole chunks, up to maxSpansPerExport spans (at least one chunk).
            var taken = 0
            var count = 0
            while taken < pending.count, taken == 0 || count + pending[taken].count <= Self.maxSpansPerExport {
                count += pending[taken].count
                taken += 1
            }
            let body = OTLPEncoder.exportRequest(encodedSpans: pending.prefix(taken).map(\.bytes),
                                                 serviceVersion: AdminService.version)
            pending.removeFirst(taken)
            pendingCount -= count
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
                metrics.recordDroppedSpans(count, reason: "export_failed")
                failedExports += 1
                if let suppressed = failures.admit() {
                    logger.warning("trace export failed; spans are dropped until the collector answers", metadata: [
                        "endpoint": .string("\(client.endpoint)"), "error": .string("\(error)"),
                        "spans": .stringConvertible(count), "suppressed": .stringConvertible(suppressed),
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
