import BatonEngine
import Foundation

/// Carries committed batches from the commit path to the metrics, the log and the trace exporter
/// without waking anything per commit: a commit appends its batch under a lock; a thread of its own
/// takes everything queued every 50 ms (at once past 4,096 batches), counts the metrics, writes the
/// log lines, and hands the trace exporter the whole list in one call. Waking a consumer task on every commit competed with
/// the engine's own tasks for the cooperative threads and cost more than the work itself.
final class ObservationPump: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [CommittedEvents] = []
    private var stopping = false
    private var finished = false
    private let metrics: ServerMetrics
    private let log: WorkflowEventLog
    private let traces: TraceExporter?
    private let spans: SpanBuilder?
    /// Callers waiting until what was queued before they asked has been processed.
    private var waiters: [Callback<Void>] = []

    /// Batches queued before the thread is woken at once.
    static let wakeAt = 4_096
    /// Batches queued at most; past it a commit counts its own metrics and writes its own lines
    /// (nothing is lost) and its spans are dropped (counted by the exporter).
    static let maxQueued = 262_144
    /// How long queued batches wait at most.
    static let interval: TimeInterval = 0.05

    init(metrics: ServerMetrics, log: WorkflowEventLog, traces: TraceExporter?, spans: SpanBuilder?) {
        self.spans = spans
        self.metrics = metrics
        self.log = log
        self.traces = traces
        let thread = Thread { [self] in run() }
        thread.name = "baton-observe"
        thread.start()
    }

    /// Queues `batch` (called on the commit path: a lock and an append).
    func enqueue(_ batch: CommittedEvents) {
        condition.lock()
        guard queue.count < Self.maxQueued, !stopping else {
            condition.unlock()
            metrics.record(batch)
            log.log(batch)
            traces?.dropped(batch)
            return
        }
        queue.append(batch)
        if queue.count == Self.wakeAt { condition.signal() }
        condition.unlock()
    }

    /// Calls `done` once every batch queued before this call has been processed (metrics counted,
    /// lines written, spans handed on) — at once, not at the next tick. A scrape waits for it, so
    /// it counts every commit made before it.
    func whenProcessed(_ done: @escaping @Sendable () -> Void) {
        condition.lock()
        if finished {
            condition.unlock()
            return done()
        }
        waiters.append(Callback { _ in done() })
        condition.signal()
        condition.unlock()
    }

    /// Processes what is queued, then stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            if queue.count < Self.wakeAt && !stopping && waiters.isEmpty {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Self.interval))
            }
            let batches = queue
            queue.removeAll(keepingCapacity: true)
            let done = stopping
            let answered = waiters  // every batch they wait for is in `batches`
            waiters.removeAll()
            condition.unlock()
            defer { for waiter in answered { waiter.call(()) } }
            // A tick's json lines go out in one write (JSONLogSink.holdingWrites).
            JSONLogSink.standardError.holdingWrites {
                for batch in batches {
                    metrics.record(batch)
                    log.log(batch)
                }
            }
            if let traces, let spans, !batches.isEmpty {
                let ended = spans.spans(batches)
                if !ended.isEmpty { traces.enqueue(ended) }
            }
            if done {
                condition.lock()
                for waiter in waiters { waiter.call(()) }
                waiters.removeAll()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
