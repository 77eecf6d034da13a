import BatonEngine
import BatonStore
import Logging
import NIOCore

/// The three signals of one runtime, wired to what it commits: structured log lines
/// (``WorkflowEventLog``), Prometheus metrics (``ServerMetrics``) and, with an endpoint, OTLP trace
/// export. The server builds one; so does the engine benchmark, to measure what they cost.
///
/// ```swift
/// let observability = await ServerObservability(runtime: runtime, otlpEndpoint: nil, logger: logger, group: group)
/// let text = await observability.metrics.scrape(runtime: runtime, queues: queues)
/// await observability.shutdown()
/// ```
public final class ServerObservability: Sendable {
    /// The metrics families.
    public let metrics: ServerMetrics
    private let traces: TraceExporter?
    private let pump: ObservationPump

    /// Attaches the log, the metrics and (with `otlpEndpoint`) the trace exporter to `runtime`.
    public init(runtime: WorkflowRuntime, otlpEndpoint: OTLPEndpoint?, logger: Logger, group: any EventLoopGroup) async {
        let eventLog = WorkflowEventLog(logger: logger, definitions: runtime.registry)
        let metrics = ServerMetrics(definitions: runtime.registry)
        let traces = otlpEndpoint.map {
            TraceExporter(endpoint: $0, metrics: metrics, logger: logger, group: group)
        }
        await traces?.start()
        // Metrics, log lines and spans are made off the commit path (at most 50 ms later).
        let pump = ObservationPump(metrics: metrics, log: eventLog, traces: traces,
                                   spans: traces == nil ? nil : SpanBuilder(runtime: runtime, logger: logger))
        runtime.observeCommittedEvents { pump.enqueue($0) }
        runtime.breakers.observe { metrics.record($0) }
        for breaker in runtime.circuitBreakers() { metrics.setBreakerState(breaker.key, breaker.state) }
        (runtime.store as? SQLiteWorkflowStore)?.observeCommits { metrics.recordCommit(duration: $0, changes: $1) }
        self.metrics = metrics
        self.traces = traces
        self.pump = pump
    }

    /// Returns once every commit made before the call is counted in the metrics (and logged).
    public func settle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pump.whenProcessed { continuation.resume() }
        }
    }

    /// Writes the log lines still queued, exports the spans still queued (bounded by `deadline`) and
    /// stops the exporter.
    public func shutdown(deadline: Duration = .seconds(3)) async {
        pump.stop()
        await traces?.shutdown(deadline: deadline)
    }
}
