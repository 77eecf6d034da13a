import BatonCore
import BatonEngine

/// The spans of one run, built from its history as events commit (event in, finished spans out): the
/// root `workflow DEFINITION` span from start to close; under it one `step NAME` span per activity
/// attempt (scheduled → result, with a `retry` event when another attempt follows), `backoff NAME`
/// between a failed attempt and the next, `signal NAME` / `sleep NAME` for waits, `compensate NAME`
/// per compensation attempt; breaker transitions, signals, cancel requests and the saga are events
/// on the root. Span ids come from ``TraceContext/spanID(_:step:attempt:)``, so replaying the same
/// history (after a restart) builds the same spans.
struct RunSpans {
    let trace: TraceContext
    /// The trace's and the root span's ids as numbers (parsed once per run).
    let traceID: TraceID
    let rootSpanID: SpanID
    let workflowID: String
    let runID: String
    let definition: DefinitionRef
    /// The pinned definition (step kinds, activity types); nil when it could not be loaded.
    let steps: Steps?
    private(set) var start: Instant
    private var rootEvents: [FinishedSpan.Event] = []
    private var open: [OpenKey: FinishedSpan] = [:]

    /// A builder for the run that `WorkflowStarted` at `start` began.
    init(trace: TraceContext, workflowID: String, runID: String, definition: DefinitionRef,
         steps: Steps?, start: Instant) {
        self.trace = trace
        traceID = TraceID(hex: trace.traceID)
        rootSpanID = SpanID(hex: trace.spanID)
        self.workflowID = workflowID
        self.runID = runID
        self.definition = definition
        self.steps = steps
        self.start = start
    }

    /// Folds `event` in and returns the spans it ended (the root last, at the run's close).
    mutating func apply(_ event: WorkflowEvent) -> [FinishedSpan] {
        let time = event.time
        switch event.kind {
        case .workflowStarted:
            start = time
        case .stepScheduled(let step, let attempt, _):
            var ended = close(OpenKey(.backoff, step), at: time, .unset)
            ended += close(OpenKey(.wait, step), at: time, .unset)
            openStep(step, attempt, at: time)
            return ended
        case .stepStarted(let step, let attempt):
            open[OpenKey(.step, step, attempt)]?.events.append(FinishedSpan.Event(time: time, name: "started", attributes: []))
        case .stepCompleted(let step, let attempt, _):
            return close(OpenKey(.step, step, attempt), at: time, .ok) + close(OpenKey(.wait, step), at: time, .ok)
        case .stepFailed(let step, let attempt, let failure, let retryAt):
            return attemptFailed(step, attempt, at: time, type: failure.type, message: failure.message, retryAt: retryAt)
        case .stepTimedOut(let step, let attempt, let timeout, let retryAt):
            return attemptFailed(step, attempt, at: time, type: "Timeout", message: "\(timeout.rawValue) timeout",
                                 retryAt: retryAt)
        case .circuitRejected(let step, let attempt, let key, let fallback):
            let key2 = OpenKey(.step, step, attempt)
            if open[key2] == nil { openStep(step, attempt, at: time) }
            open[key2]?.events.append(FinishedSpan.Event(time: time, name: "circuit breaker rejected", attributes: [
                ("baton.breaker", .string(key)), ("baton.fallback", .bool(fallback)),
            ]))
            open[key2]?.attributes.append(("baton.error_type", .string("CircuitOpen")))
            return close(key2, at: time, fallback ? .ok : .error("CircuitOpen: circuit breaker '\(key)' is open"))
        case .signalWaitTimedOut(let step):
            return close(OpenKey(.wait, step), at: time, .error("signal wait timed out"))
        case .signalReceived(let name, _, _):
            rootEvent(time, "signal received", [("baton.signal", .string(name))])
        case .cancelRequested(let reason):
            rootEvent(time, "cancel requested", [("baton.reason", .string(reason))])
        case .sagaStarted(let step, let failure):
            var attributes: [(String, FinishedSpan.Value)] = [("baton.reason", .string(failure == nil ? "cancelled" : "failed"))]
            if let step { attributes.append(("baton.step", .string(step))) }
            rootEvent(time, "saga started", attributes)
        case .compensationScheduled(let step, let attempt, _):
            let activity = steps?.compensations[step] ?? ""
            open[OpenKey(.compensate, step)] = span("compensate \(step)", spanID(.compensate, step: step, attempt: attempt),
                                              at: time, [
                                                  ("baton.workflow_id", .string(workflowID)), ("baton.step", .string(step)),
                                                  ("baton.attempt", .int(attempt)), ("baton.activity", .string(activity)),
                                              ])
        case .compensationAttemptFailed(let step, _, let failure, let retryAt):
            if retryAt != nil {
                open[OpenKey(.compensate, step)]?.events.append(FinishedSpan.Event(time: time, name: "retry", attributes: []))
            }
            open[OpenKey(.compensate, step)]?.attributes.append(("baton.error_type", .string(failure.type)))
            return close(OpenKey(.compensate, step), at: time, .error(Self.message(failure.type, failure.message)))
        case .compensationCompleted(let step):
            return close(OpenKey(.compensate, step), at: time, .ok)
        case .compensationFailed(let step, let failure):
            return close(OpenKey(.compensate, step), at: time, .error(Self.message(failure.type, failure.message)))
        case .circuitOpened(let key):
            rootEvent(time, "circuit breaker opened", [("baton.breaker", .string(key))])
        case .circuitHalfOpened(let key):
            rootEvent(time, "circuit breaker half-open", [("baton.breaker", .string(key))])
        case .circuitClosed(let key):
            rootEvent(time, "circuit breaker closed", [("baton.breaker", .string(key))])
        case .workflowCompleted:
            return closeRun(at: time, "completed", .ok)
        case .workflowFailed(_, let failure):
            return closeRun(at: time, "failed", .error(Self.message(failure.type, failure.message)))
        case .workflowCancelled:
            return closeRun(at: time, "cancelled", .unset)
        case .workflowTerminated:
            return closeRun(at: time, "terminated", .unset)
        case .workflowCompensated:
            return closeRun(at: time, "compensated", .unset)
        case .workflowCompensationFailed(let step):
            return closeRun(at: time, "compensation_failed", .error("the compensation of \(step) failed"))
        case .stepSkipped, .stepHeartbeat, .timerStarted, .timerFired, .compensationStarted:
            break
        }
        return []
    }

    private mutating func openStep(_ step: String, _ attempt: Int, at time: Instant) {
        var attributes: [(String, FinishedSpan.Value)] = [
            ("baton.workflow_id", .string(workflowID)), ("baton.step", .string(step)), ("baton.attempt", .int(attempt)),
        ]
        switch steps?.kinds[step] {
        case .waitForSignal(let wait):
            attributes.append(("baton.signal", .string(wait.name)))
            open[OpenKey(.wait, step)] = span("signal \(wait.name)", spanID(.wait, step: step, attempt: attempt),
                                        at: time, attributes)
        case .sleep:
            open[OpenKey(.wait, step)] = span("sleep \(step)", spanID(.wait, step: step, attempt: attempt), at: time, attributes)
        case .activity(let activity):
            attributes.append(("baton.activity", .string(activity)))
            open[OpenKey(.step, step, attempt)] = span("step \(step)", spanID(.step, step: step, attempt: attempt),
                                                   at: time, attributes)
        case nil:
            open[OpenKey(.step, step, attempt)] = span("step \(step)", spanID(.step, step: step, attempt: attempt),
                                                   at: time, attributes)
        }
    }

    private mutating func attemptFailed(_ step: String, _ attempt: Int, at time: Instant, type: String, message: String,
                                        retryAt: Instant?) -> [FinishedSpan] {
        let key = open[OpenKey(.wait, step)] != nil ? OpenKey(.wait, step) : OpenKey(.step, step, attempt)
        open[key]?.attributes.append(("baton.error_type", .string(type)))
        if let retryAt {
            open[key]?.events.append(FinishedSpan.Event(time: time, name: "retry", attributes: [
                ("baton.next_attempt", .int(attempt + 1)), ("baton.retry_at_ms", .int(Int(retryAt.millisecondsSinceEpoch))),
            ]))
        }
        let ended = close(key, at: time, .error(Self.message(type, message)))
        if retryAt != nil {
            open[OpenKey(.backoff, step)] = span("backoff \(step)", spanID(.backoff, step: step, attempt: attempt + 1), at: time, [
                ("baton.workflow_id", .string(workflowID)), ("baton.step", .string(step)), ("baton.attempt", .int(attempt + 1)),
            ])
        }
        return ended
    }

    private mutating func closeRun(at time: Instant, _ status: String, _ spanStatus: FinishedSpan.Status) -> [FinishedSpan] {
        var ended: [FinishedSpan] = []
        for key in open.keys.sorted() { ended += close(key, at: time, .unset) }
        var root = FinishedSpan(
            traceID: traceID, spanID: rootSpanID, parentSpanID: trace.parentSpanID.map(SpanID.init(hex:)),
            name: "workflow \(definition.name)", start: start, end: time, attributes: [
                ("baton.workflow_id", .string(workflowID)), ("baton.run_id", .string(runID)),
                ("baton.definition", .string(definition.name)), ("baton.version", .int(definition.version)),
                ("baton.status", .string(status)),
            ], sampled: trace.sampled)
        root.events = rootEvents
        root.status = spanStatus
        ended.append(root)
        return ended
    }

    /// The id of the span `kind` of `step`'s `attempt` (``TraceContext/spanID(_:step:attempt:)``).
    private func spanID(_ kind: TraceContext.SpanKind, step: String, attempt: Int) -> SpanID {
        SpanID(trace.spanNumber(kind, step: step, attempt: attempt))
    }

    private func span(_ name: String, _ spanID: SpanID, at time: Instant,
                      _ attributes: [(String, FinishedSpan.Value)]) -> FinishedSpan {
        FinishedSpan(traceID: traceID, spanID: spanID, parentSpanID: rootSpanID, name: name, start: time, end: time,
                     attributes: attributes, sampled: trace.sampled)
    }

    private mutating func close(_ key: OpenKey, at time: Instant, _ status: FinishedSpan.Status) -> [FinishedSpan] {
        guard var span = open.removeValue(forKey: key) else { return [] }
        span.end = time
        span.status = status
        return [span]
    }

    private mutating func rootEvent(_ time: Instant, _ name: String, _ attributes: [(String, FinishedSpan.Value)]) {
        // Bounded: a run signalled without end must not grow its root span without limit.
        if rootEvents.count < Self.maxRootEvents { rootEvents.append(FinishedSpan.Event(time: time, name: name, attributes: attributes)) }
    }

    static let maxRootEvents = 128

    /// What spans need of a definition's steps (their kinds, their compensations' activity types),
    /// made once per definition version and shared by its runs.
    final class Steps: Sendable {
        let kinds: [String: StepDefinition.Kind]
        let compensations: [String: String]

        init(_ definition: WorkflowDefinition) {
            var kinds: [String: StepDefinition.Kind] = [:]
            var compensations: [String: String] = [:]
            for step in definition.steps {
                kinds[step.name] = step.kind
                if let compensate = step.compensate { compensations[step.name] = compensate.activity }
            }
            self.kinds = kinds
            self.compensations = compensations
        }
    }

    /// What an open span is: its kind, step and (for step attempts) attempt; ordered as the spans
    /// still open at a run's close end (backoffs, compensations, attempts, waits; by step).
    struct OpenKey: Hashable, Comparable {
        enum Kind: Int {
            case backoff, compensate, step, wait
        }

        var kind: Kind
        var step: String
        var attempt: Int

        init(_ kind: Kind, _ step: String, _ attempt: Int = 0) {
            self.kind = kind
            self.step = step
            self.attempt = attempt
        }

        static func < (lhs: OpenKey, rhs: OpenKey) -> Bool {
            (lhs.kind.rawValue, lhs.step, lhs.attempt) < (rhs.kind.rawValue, rhs.step, rhs.attempt)
        }
    }

    static func message(_ type: String, _ message: String) -> String {
        String("\(type): \(message)".prefix(1024))
    }
}
