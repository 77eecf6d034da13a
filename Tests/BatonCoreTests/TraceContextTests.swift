import BatonCore
import Testing

/// W3C `traceparent` parsing, new root spans, and the derived span ids of a run's trace.
@Suite(.timeLimit(.minutes(1))) struct TraceContextTests {
    @Test func aValidTraceparentIsParsed() throws {
        let parent = try #require(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(parent.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parent.spanID == "00f067aa0ba902b7")
        #expect(parent.sampled)
        #expect(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled == false)
        // A later version may add fields after the flags.
        #expect(TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") != nil)
    }

    @Test(arguments: [
        "", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has 4 fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    ])
    func anInvalidTraceparentIsIgnored(_ value: String) {
        #expect(TraceParent(value) == nil)
    }

    @Test func aRunContinuesItsCallersTraceOrStartsANewOne() throws {
        let parent = try #require(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        let child = TraceContext.startingRun(parent: parent)
        #expect(child.traceID == parent.traceID)
        #expect(child.parentSpanID == parent.spanID)
        #expect(child.spanID != parent.spanID && child.spanID.count == 16)
        #expect(!child.sampled)
        let root = TraceContext.startingRun(parent: nil)
        #expect(root.traceID.count == 32 && root.parentSpanID == nil && root.sampled)
        #expect(TraceParent(root.traceparent(spanID: root.spanID)) != nil)
        #expect(TraceContext.startingRun(parent: nil).traceID != root.traceID)
    }

    @Test func spanIDsAreDerivedStablyAndDistinctly() {
        let trace = TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7")
        let ids = [
            trace.spanID(.step, step: "a", attempt: 1), trace.spanID(.step, step: "a", attempt: 2),
            trace.spanID(.step, step: "b", attempt: 1), trace.spanID(.backoff, step: "a", attempt: 2),
            trace.spanID(.wait, step: "a", attempt: 1), trace.spanID(.compensate, step: "a", attempt: 1),
        ]
        #expect(Set(ids).count == ids.count)
        #expect(!ids.contains(trace.spanID))
        #expect(ids.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
        // The same root gives the same ids (before and after a restart).
        let again = TraceContext(traceID: trace.traceID, spanID: trace.spanID)
        #expect(again.spanID(.step, step: "a", attempt: 2) == ids[1])
        #expect(trace.traceparent(spanID: ids[0]) == "00-\(trace.traceID)-\(ids[0])-01")
    }

    /// Histories written by earlier versions name span ids made by hashing the text
    /// `ROOT/KIND/STEP/ATTEMPT`; the byte-by-byte hash must give exactly those ids.
    @Test(arguments: [("a", 1), ("charge_card", 12), ("", 0), ("étape ✓", 3), ("x", -7), ("long_\(String(repeating: "s", count: 300))", 999_999)])
    func spanIDsMatchTheHashOfTheirText(step: String, attempt: Int) {
        let trace = TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7")
        for kind in [TraceContext.SpanKind.step, .backoff, .wait, .compensate] {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in "\(trace.spanID)/\(kind.rawValue)/\(step)/\(attempt)".utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            #expect(trace.spanNumber(kind, step: step, attempt: attempt) == hash)
            let digits = String(hash, radix: 16)
            #expect(trace.spanID(kind, step: step, attempt: attempt) == String(repeating: "0", count: 16 - digits.count) + digits)
        }
    }

    @Test func hexWritesSixteenDigits() {
        #expect(TraceContext.hex(0) == "0000000000000000")
        #expect(TraceContext.hex(0xAB) == "00000000000000ab")
        #expect(TraceContext.hex(UInt64.max) == "ffffffffffffffff")
        #expect(TraceContext.hex(0x0123_4567_89AB_CDEF) == "0123456789abcdef")
    }
}
