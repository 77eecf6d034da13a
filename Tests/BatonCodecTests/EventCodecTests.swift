import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import Testing

/// One event of every type, with every optional member both set and unset where it has one.
let everyEventKind: [EventKind] = {
    let failure = ActivityFailure(type: "Declined", message: "card declined", details: ["code": 51, "tags": ["a", nil]],
                                  nonRetryable: true)
    let at = Instant(millisecondsSinceEpoch: 1_700_000_000_123)
    return [
        .workflowStarted(definition: "campaign", version: 3, input: ["product": "Widget", "n": 7.5], runID: nil,
                         trace: TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7",
                                             parentSpanID: "b7ad6b7169203331", sampled: false)),
        .stepScheduled(step: "a", attempt: 1, input: .null),
        .stepStarted(step: "a", attempt: 1),
        .stepHeartbeat(step: "a", attempt: 1, details: ["done": 10]),
        .stepCompleted(step: "a", attempt: 1, output: ["ok": true]),
        .stepFailed(step: "a", attempt: 2, failure: failure, retryAt: at),
        .stepFailed(step: "a", attempt: 3, failure: ActivityFailure(type: "X", message: ""), retryAt: nil),
        .stepTimedOut(step: "a", attempt: 1, timeout: .heartbeat, retryAt: at),
        .stepTimedOut(step: "a", attempt: 2, timeout: .scheduleToStart, retryAt: nil),
        .stepSkipped(step: "b"),
        .timerStarted(timer: "a/1/backoff", step: "a", attempt: 1, purpose: .retryBackoff, fireAt: at),
        .timerStarted(timer: "a/1/start_to_close", step: "a", attempt: 1, purpose: .timeout(.startToClose), fireAt: at),
        .timerStarted(timer: "s/0/sleep", step: "s", attempt: 0, purpose: .sleep, fireAt: at),
        .timerStarted(timer: "w/0/signal_timeout", step: "w", attempt: 0, purpose: .signalTimeout, fireAt: at),
        .timerFired(timer: "a/1/backoff"),
        .signalReceived(name: "approve", payload: ["ok": true], requestID: "r-1"),
        .signalReceived(name: "approve", payload: .null, requestID: nil),
        .signalWaitTimedOut(step: "w"),
        .cancelRequested(reason: "no longer needed"),
        .sagaStarted(step: "b", failure: failure),
        .sagaStarted(step: nil, failure: nil),
        .compensationStarted(step: "a"),
        .compensationScheduled(step: "a", attempt: 1, input: ["undo": "a"]),
        .compensationAttemptFailed(step: "a", attempt: 1, failure: failure, retryAt: at),
        .compensationAttemptFailed(step: "a", attempt: 2, failure: failure, retryAt: nil),
        .compensationCompleted(step: "a"),
        .compensationFailed(step: "a", failure: failure),
        .workflowCompleted(output: ["result": [1, 2, 3]]),
        .workflowFailed(step: "b", failure: failure),
        .workflowFailed(step: nil, failure: failure),
        .workflowCancelled(reason: "cancelled"),
        .workflowTerminated(reason: "operator"),
        .workflowCompensated,
        .workflowCompensationFailed(step: "a"),
        .circuitRejected(step: "call", attempt: 1, key: "svc", fallback: true),
        .circuitOpened(key: "svc"),
        .circuitHalfOpened(key: "svc"),
        .circuitClosed(key: "svc"),
    ]
}()

@Suite(.timeLimit(.minutes(1))) struct EventCodecTests {
    @Test(arguments: everyEventKind)
    func everyEventRoundTripsThroughItsStoredForm(kind: EventKind) throws {
        let bytes = try EventCodec.encode(kind)
        #expect(bytes.first == EventCodec.currentVersion)
        #expect(try EventCodec.decode(bytes) == kind)
    }

    @Test func everyEventTypeIsCovered() {
        #expect(Set(everyEventKind.map(\.typeName)).count == 29)
    }

    @Test(arguments: everyEventKind)
    func theAPIEventCarriesTypedAttributesOfItsType(kind: EventKind) throws {
        let event = WorkflowEvent(id: 4, time: Instant(millisecondsSinceEpoch: 1_500), kind: kind).proto
        #expect(event.eventID == 4)
        #expect(event.type == kind.typeName)
        let attributes = try #require(event.attributes)
        // The attributes' case is the event's type (the oneof field of the same name).
        let caseName = String(describing: attributes).prefix { $0 != "(" }
        #expect(caseName.lowercased() == kind.typeName.lowercased())
        // The API's event and the stored event share their encoding.
        let stored = try Baton_Storage_V1_Event(serializedBytes: try event.serializedBytes() as [UInt8])
        #expect(try EventKind(storage: stored) == kind)
    }

    @Test func formatOneJSONEventsStillDecode() throws {
        let legacy = Array(#"{"stepCompleted":{"step":"a","attempt":2,"output":{"ok":true}}}"#.utf8)
        #expect(try EventCodec.decode([EventCodec.legacyJSONVersion] + legacy) == .stepCompleted(step: "a", attempt: 2, output: ["ok": true]))
    }

    @Test func damagedPayloadsAreStorageErrors() {
        for bytes: [UInt8] in [[], [9, 1, 2], [EventCodec.currentVersion, 0xff, 0xff], [EventCodec.currentVersion]] {
            #expect(throws: BatonError.self) { try EventCodec.decode(bytes) }
        }
    }
}
