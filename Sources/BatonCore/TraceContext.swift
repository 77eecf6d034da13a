/// Where a run sits in a distributed trace (W3C Trace Context): the trace, the run's root span and
/// the caller's span above it. Recorded in `WorkflowStarted`, so a run that crosses a restart stays
/// one trace. The spans under the root (step attempts, backoffs, signal waits, compensations) have
/// ids derived from the root span and what they are (``spanID(_:step:attempt:)``), so nothing else
/// needs storing and a worker's task can carry its attempt's span before the span is exported.
public struct TraceContext: Hashable, Sendable, Codable {
    /// The trace id: 32 lowercase hex digits, not all zero.
    public var traceID: String
    /// The run's root span (`workflow DEFINITION`): 16 lowercase hex digits, not all zero.
    public var spanID: String
    /// The caller's span the root is a child of (from its `traceparent`); nil for a new trace.
    public var parentSpanID: String?
    /// Whether the trace is sampled (exported).
    public var sampled: Bool

    /// Creates a context from its parts (ids are not checked: use ``TraceParent`` for outside input).
    public init(traceID: String, spanID: String, parentSpanID: String? = nil, sampled: Bool = true) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.sampled = sampled
    }

    /// A new root span: in the caller's trace when `parent` is given, else in a new sampled trace.
    public static func startingRun<R: RandomNumberGenerator>(parent: TraceParent?, using generator: inout R) -> TraceContext {
        var spanID = 0 as UInt64
        while spanID == 0 { spanID = generator.next() }
        if let parent {
            return TraceContext(traceID: parent.traceID, spanID: hex(spanID), parentSpanID: parent.spanID,
                                sampled: parent.sampled)
        }
        var high = 0 as UInt64, low = 0 as UInt64
        while high == 0 && low == 0 { (high, low) = (generator.next(), generator.next()) }
        return TraceContext(traceID: hex(high) + hex(low), spanID: hex(spanID))
    }

    /// A new root span with the system's random numbers.
    public static func startingRun(parent: TraceParent?) -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return startingRun(parent: parent, using: &generator)
    }

    /// What a span under the root stands for.
    public enum SpanKind: String, Sendable {
        /// An attempt of an activity step (`step NAME`).
        case step
        /// The wait before a retry (`backoff NAME`); `attempt` is the attempt it precedes.
        case backoff
        /// A `wait_for_signal` or `sleep` step's wait.
        case wait
        /// An attempt of a step's compensation (`compensate NAME`).
        case compensate
    }

    /// The id of the span `kind` of `step`'s `attempt`: a hash of the root span id and those, so it
    /// is the same before and after a restart (FNV-1a, 64 bits; never zero).
    public func spanID(_ kind: SpanKind, step: String, attempt: Int) -> String {
        Self.hex(spanNumber(kind, step: step, attempt: attempt))
    }

    /// ``spanID(_:step:attempt:)`` as a number: FNV-1a over the bytes of
    /// `ROOT/KIND/STEP/ATTEMPT` (fed piece by piece; no string is built).
    public func spanNumber(_ kind: SpanKind, step: String, attempt: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        for byte in spanID.utf8 { feed(byte) }
        feed(0x2F)
        for byte in kind.rawValue.utf8 { feed(byte) }
        feed(0x2F)
        for byte in step.utf8 { feed(byte) }
        feed(0x2F)
        if attempt < 0 { feed(0x2D) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var value = attempt.magnitude
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(truncatingIfNeeded: value % 10) + 0x30
                value /= 10
                count += 1
            } while value > 0
            for index in stride(from: count - 1, through: 0, by: -1) { feed(buffer[index]) }
        }
        return hash == 0 ? 1 : hash
    }

    /// The W3C `traceparent` header value naming `spanID` in this trace.
    public func traceparent(spanID: String) -> String {
        "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")"
    }

    /// `value` as 16 lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0x0F
                buffer[index] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            }
            return 16
        }
    }
}

/// A parsed W3C `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header).
public struct TraceParent: Hashable, Sendable {
    /// The trace id (32 lowercase hex digits).
    public var traceID: String
    /// The caller's span id (16 lowercase hex digits).
    public var spanID: String
    /// The `sampled` flag.
    public var sampled: Bool

    /// Parses `value`; nil when it is not a valid `traceparent` (the W3C rule: a receiver ignores an
    /// invalid one and starts a new trace). Version `ff` and all-zero ids are invalid; a version
    /// above `00` may carry more fields after the flags.
    public init?(_ value: String) {
        let fields = value.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0].count == 2, fields[1].count == 32, fields[2].count == 16,
              fields[3].count == 2, fields.prefix(4).allSatisfy({ $0.utf8.allSatisfy(Self.isLowerHex) })
        else { return nil }
        let version = fields[0]
        guard version != "ff", (version == "00" ? fields.count == 4 : true),
              fields[1].contains(where: { $0 != "0" }), fields[2].contains(where: { $0 != "0" }),
              let flags = UInt8(fields[3], radix: 16)
        else { return nil }
        traceID = String(fields[1])
        spanID = String(fields[2])
        sampled = flags & 1 == 1
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }
}
