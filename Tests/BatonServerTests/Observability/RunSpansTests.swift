import BatonCore
import BatonEngine
import Testing

@testable import BatonServer

/// The spans a run's history makes: structure, attributes, statuses, and the same spans when the
/// history is replayed after a restart.
@Suite(.timeLimit(.minutes(1))) struct RunSpansTests {
    static let source = """
        name: spans
        on_failure: compensate
        steps:
          book: { activity: travel.book, compensate: { activity: travel.cancel } }
          nap: { depends_on: [book], sleep: 1s }
          approve: { depends_on: [nap], wait_for_signal: { name: go } }
          charge:
            depends_on: [approve]
            activity: card.charge
            retry: { initial_interval: 1s, maximum_attempts: 2 }
        """
    static let trace = TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7",
                                    parentSpanID: "1111111111111111")

    /// A compensated run: book, a sleep, a signal, two failed charges (one retry), the saga.
    static var history: [WorkflowEvent] {
        let failure = ActivityFailure(type: "CardDeclined", message: "no funds")
        let kinds: [EventKind] = [
            .workflowStarted(definition: "spans", version: 1, input: .null, runID: "r1", trace: trace),
            .stepScheduled(step: "book", attempt: 1, input: .null), .stepStarted(step: "book", attempt: 1),
            .stepCompleted(step: "book", attempt: 1, output: .null),
            .stepScheduled(step: "nap", attempt: 1, input: .null), .stepStarted(step: "nap", attempt: 1),
            .stepCompleted(step: "nap", attempt: 1, output: .null),
            .stepScheduled(step: "approve", attempt: 1, input: .null), .stepStarted(step: "approve", attempt: 1),
            .signalReceived(name: "go", payload: .null, requestID: nil),
            .stepCompleted(step: "approve", attempt: 1, output: .null),
            .stepScheduled(step: "charge", attempt: 1, input: .null), .stepStarted(step: "charge", attempt: 1),
            .stepFailed(step: "charge", attempt: 1, failure: failure, retryAt: Instant(millisecondsSinceEpoch: 15_000)),
            .stepScheduled(step: "charge", attempt: 2, input: .null), .stepStarted(step: "charge", attempt: 2),
            .stepFailed(step: "charge", attempt: 2, failure: failure, retryAt: nil),
            .sagaStarted(step: "charge", failure: failure), .compensationStarted(step: "book"),
            .compensationScheduled(step: "book", attempt: 1, input: .null), .compensationCompleted(step: "book"),
            .workflowCompensated,
        ]
        return kinds.enumerated().map { index, kind in
            WorkflowEvent(id: Int64(index + 1), time: Instant(millisecondsSinceEpoch: Int64(index) * 1_000), kind: kind)
        }
    }

    static func builder() throws -> RunSpans {
        RunSpans(trace: trace, workflowID: "w1", runID: "r1", definition: DefinitionRef(name: "spans", version: 1),
                 steps: RunSpans.Steps(try DefinitionParser.parse(source)), start: .epoch)
    }

    @Test func aRunIsOneTraceUnderItsRootSpan() throws {
        var spans = try Self.builder()
        let ended = Self.history.flatMap { spans.apply($0) }
        let names = ended.map(\.name)
        #expect(names.sorted() == ["backoff charge", "compensate book", "signal go", "sleep nap", "step book",
                                   "step charge", "step charge", "workflow spans"])
        let root = try #require(ended.last)
        #expect(root.name == "workflow spans" && "\(root.spanID)" == Self.trace.spanID)
        #expect(root.parentSpanID.map { "\($0)" } == "1111111111111111")
        #expect(root.attribute("baton.status") == .string("compensated"))
        #expect(root.attribute("baton.version") == .int(1))
        #expect(root.start == .epoch && root.end == Instant(millisecondsSinceEpoch: 21_000))
        #expect(root.events.map(\.name) == ["signal received", "saga started"])
        for span in ended.dropLast() {
            #expect("\(span.traceID)" == Self.trace.traceID && span.parentSpanID.map { "\($0)" } == Self.trace.spanID, "\(span.name)")
            #expect(span.start >= root.start && span.end <= root.end, "\(span.name)")
        }
        #expect(Set(ended.map(\.spanID)).count == ended.count, "span ids are unique")

        let charges = ended.filter { $0.name == "step charge" }
        #expect(charges.map { $0.attribute("baton.attempt") } == [.int(1), .int(2)])
        #expect(charges.allSatisfy { $0.status == .error("CardDeclined: no funds") })
        #expect(charges.allSatisfy { $0.attribute("baton.error_type") == .string("CardDeclined") })
        #expect(charges[0].events.map(\.name) == ["started", "retry"])
        #expect(charges[1].events.map(\.name) == ["started"])
        #expect("\(charges[0].spanID)" == Self.trace.spanID(.step, step: "charge", attempt: 1))
        #expect(charges[0].attribute("baton.activity") == .string("card.charge"))
        let backoff = try #require(ended.first { $0.name == "backoff charge" })
        #expect(backoff.start == charges[0].end && backoff.end == charges[1].start)
        #expect(backoff.attribute("baton.attempt") == .int(2))
        let wait = try #require(ended.first { $0.name == "signal go" })
        #expect(wait.attribute("baton.signal") == .string("go") && wait.status == .ok)
        #expect(wait.end.millisecondsSinceEpoch - wait.start.millisecondsSinceEpoch == 3_000)
        let compensation = try #require(ended.first { $0.name == "compensate book" })
        #expect(compensation.attribute("baton.activity") == .string("travel.cancel") && compensation.status == .ok)
    }

    /// Restarting at any event (the earlier events replayed, their spans already exported) gives
    /// the spans that end afterwards with the same ids, parents, times and attributes.
    @Test func aReplayedHistoryMakesTheSameLaterSpans() throws {
        var whole = try Self.builder()
        let all = Self.history.map { (event: $0, ended: whole.apply($0)) }
        for restart in 1..<all.count {
            var replayed = try Self.builder()
            for event in Self.history[..<restart] { _ = replayed.apply(event) }
            let later = Self.history[restart...].flatMap { replayed.apply($0) }
            #expect(later == all[restart...].flatMap(\.ended), "restart before event \(restart + 1)")
        }
    }

    @Test func openSpansEndWithTheRunAndAnOpenBreakerRejectsTheAttempt() throws {
        var spans = try Self.builder()
        let events: [EventKind] = [
            .workflowStarted(definition: "spans", version: 1, input: .null, runID: "r1", trace: Self.trace),
            .stepScheduled(step: "book", attempt: 1, input: .null),
            .circuitRejected(step: "book", attempt: 1, key: "travel", fallback: false),
            .stepScheduled(step: "book", attempt: 2, input: .null),
            .circuitOpened(key: "travel"),
            .workflowTerminated(reason: "stop"),
        ]
        let ended = events.enumerated().flatMap { index, kind in
            spans.apply(WorkflowEvent(id: Int64(index + 1), time: Instant(millisecondsSinceEpoch: Int64(index)), kind: kind))
        }
        #expect(ended.map(\.name) == ["step book", "step book", "workflow spans"])
        #expect(ended[0].status == .error("CircuitOpen: circuit breaker 'travel' is open"))
        #expect(ended[0].events.map(\.name) == ["circuit breaker rejected"])
        #expect(ended[1].status == .unset && ended[1].end == Instant(millisecondsSinceEpoch: 5))
        #expect(ended[2].attribute("baton.status") == .string("terminated"))
        #expect(ended[2].events.map(\.name) == ["circuit breaker opened"])
    }
}
