import BatonCore

/// A span of a run's trace, ended and ready to export (OTLP's Span, in Baton's terms).
struct FinishedSpan: Sendable, Equatable {
    /// An attribute value.
    enum Value: Sendable, Equatable {
        case string(String)
        case int(Int)
        case bool(Bool)
    }

    /// A timed annotation on the span (a retry, a breaker decision, a signal).
    struct Event: Sendable, Equatable {
        var time: Instant
        var name: String
        var attributes: [(String, Value)]

        static func == (lhs: Event, rhs: Event) -> Bool {
            lhs.time == rhs.time && lhs.name == rhs.name
                && lhs.attributes.map(\.0) == rhs.attributes.map(\.0) && lhs.attributes.map(\.1) == rhs.attributes.map(\.1)
        }
    }

    /// OTLP's status: unset, ok, or an error with a message.
    enum Status: Sendable, Equatable {
        case unset
        case ok
        case error(String)
    }

    var traceID: TraceID
    var spanID: SpanID
    var parentSpanID: SpanID?
    var name: String
    var start: Instant
    var end: Instant
    var attributes: [(String, Value)]
    var events: [Event] = []
    var status: Status = .unset
    /// Whether the trace is sampled (only sampled spans are exported).
    var sampled: Bool = true

    /// The attribute `key`, if set.
    func attribute(_ key: String) -> Value? {
        attributes.first { $0.0 == key }?.1
    }

    static func == (lhs: FinishedSpan, rhs: FinishedSpan) -> Bool {
        lhs.traceID == rhs.traceID && lhs.spanID == rhs.spanID && lhs.parentSpanID == rhs.parentSpanID
            && lhs.name == rhs.name && lhs.start == rhs.start && lhs.end == rhs.end && lhs.events == rhs.events
            && lhs.status == rhs.status && lhs.attributes.map(\.0) == rhs.attributes.map(\.0)
            && lhs.attributes.map(\.1) == rhs.attributes.map(\.1)
    }
}

/// A span id: 8 bytes, kept as a number (OTLP gets its big-endian bytes; people its 16 hex digits).
struct SpanID: Hashable, Sendable, CustomStringConvertible {
    var value: UInt64

    init(_ value: UInt64) {
        self.value = value
    }

    /// The id written as 16 hex digits; zero (invalid in OTLP) for anything else.
    init(hex: String) {
        value = hex.utf8.count == 16 ? UInt64(hex, radix: 16) ?? 0 : 0
    }

    /// 16 lowercase hex digits.
    var description: String { TraceContext.hex(value) }
}

/// A trace id: 16 bytes, kept as two numbers (most significant first).
struct TraceID: Hashable, Sendable, CustomStringConvertible {
    var high: UInt64
    var low: UInt64

    /// The id written as 32 hex digits; zero (invalid in OTLP) for anything else.
    init(hex: String) {
        guard hex.utf8.count == 32, let high = UInt64(hex.prefix(16), radix: 16),
              let low = UInt64(hex.suffix(16), radix: 16) else {
            (self.high, self.low) = (0, 0)
            return
        }
        (self.high, self.low) = (high, low)
    }

    /// 32 lowercase hex digits.
    var description: String { TraceContext.hex(high) + TraceContext.hex(low) }
}
