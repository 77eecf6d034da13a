import BatonCore
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct JSONValueTests {
    @Test func codableRoundTrip() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true], "b": ["c": false]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }

    @Test func canonicalTextSortsKeysAndFormatsIntegers() {
        let value: JSONValue = ["b": 1, "a": [2.5, "q\"uote\n"], "c": nil]
        #expect(value.canonicalText == #"{"a":[2.5,"q\"uote\n"],"b":1,"c":null}"#)
    }

    @Test func lookupFollowsKeysAndIndexes() {
        let value: JSONValue = ["items": [["id": "x"], ["id": "y"]]]
        #expect(value.lookup(["items", "1", "id"]) == "y")
        #expect(value.lookup(["items", "7", "id"]) == .null)
        #expect(value.lookup(["nope"]) == .null)
    }
}

@Suite(.timeLimit(.minutes(2))) struct EventCodecTests {
    @Test func everyKindRoundTrips() throws {
        let kinds: [EventKind] = [
            .workflowStarted(definition: "d", version: 2, input: ["x": 1]),
            .stepScheduled(step: "a", attempt: 1, input: "in"),
            .stepStarted(step: "a", attempt: 1),
            .stepHeartbeat(step: "a", attempt: 1, details: ["p": 50]),
            .stepCompleted(step: "a", attempt: 1, output: ["ok": true]),
            .stepFailed(step: "a", attempt: 2, failure: ActivityFailure(type: "T", message: "m", nonRetryable: true),
                        retryAt: Instant(millisecondsSinceEpoch: 5)),
            .stepTimedOut(step: "a", attempt: 3, timeout: .heartbeat, retryAt: nil),
            .stepSkipped(step: "b"),
            .timerStarted(timer: "a/1/backoff", step: "a", attempt: 1, purpose: .timeout(.startToClose),
                          fireAt: Instant(millisecondsSinceEpoch: 9)),
            .timerFired(timer: "a/1/backoff"),
            .signalReceived(name: "go", payload: ["approved": true], requestID: "r1"),
            .signalWaitTimedOut(step: "w"), .cancelRequested(reason: "user"),
            .compensationStarted(step: "a"), .compensationCompleted(step: "a"),
            .compensationFailed(step: "a", failure: ActivityFailure(type: "X", message: "y")),
            .workflowCompleted(output: [1, 2]), .workflowFailed(step: nil, failure: ActivityFailure(type: "X", message: "y")),
            .workflowCancelled(reason: "r"), .workflowTerminated(reason: "t"), .workflowCompensated,
            .circuitOpened(key: "k"), .circuitHalfOpened(key: "k"), .circuitClosed(key: "k"),
            .sagaStarted(step: "a", failure: ActivityFailure(type: "X", message: "y")),
            .compensationScheduled(step: "a", attempt: 2, input: ["id": 1]),
            .compensationAttemptFailed(step: "a", attempt: 1, failure: ActivityFailure(type: "X", message: "y"),
                                       retryAt: Instant(millisecondsSinceEpoch: 7)),
            .workflowCompensationFailed(step: "a"), .circuitRejected(step: "a", attempt: 1, key: "k", fallback: true),
        ]
        for kind in kinds {
            let bytes = try EventCodec.encode(kind)
            #expect(bytes.first == EventCodec.currentVersion)
            #expect(try EventCodec.decode(bytes) == kind, "\(kind.typeName)")
        }
        #expect(Set(kinds.map(\.typeName)).count == kinds.count)
    }

    @Test func rejectsUnknownVersions() {
        #expect(throws: BatonError.self) { try EventCodec.decode([9, 1, 2]) }
        #expect(throws: BatonError.self) { try EventCodec.decode([UInt8]()) }
    }
}

@Suite(.timeLimit(.minutes(2))) struct JSONWriterTests {
    @Test func outputDecodesBackToTheSameValue() throws {
        let tricky: JSONValue = [
            "quote\"back\\slash": "line\nbreak\ttab\r\u{01}\u{1F}",
            "unicode": "Grüße 🚀 日本", "numbers": [0, -1, 1.5, 1e20, -0.25, 123_456_789_012],
            "nested": ["empty": [:], "list": [], "null": nil, "flag": false],
        ]
        var writer = JSONWriter()
        writer.value(tricky)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(writer.bytes)) == tricky)
    }

    @Test func failuresAndOptionalsMatchSynthesizedCodable() throws {
        let failure = ActivityFailure(type: "T", message: "m \"q\"", details: ["k": [1]], nonRetryable: true)
        var writer = JSONWriter()
        writer.failure(failure)
        #expect(try JSONDecoder().decode(ActivityFailure.self, from: Data(writer.bytes)) == failure)
        for purpose in [TimerPurpose.retryBackoff, .sleep, .signalTimeout] + TimeoutKind.allCases.map(TimerPurpose.timeout) {
            var purposeWriter = JSONWriter()
            purposeWriter.purpose(purpose)
            #expect(try JSONDecoder().decode(TimerPurpose.self, from: Data(purposeWriter.bytes)) == purpose)
        }
    }
}
