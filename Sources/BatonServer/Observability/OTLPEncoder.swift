import BatonCore

/// Writes an OTLP `ExportTraceServiceRequest` (protobuf) for finished spans straight into bytes:
/// every message's size is computed from its fields first, so nothing is allocated per span or per
/// attribute (building SwiftProtobuf messages for each span and serializing them cost about as much
/// as the engine's own work per run). The field numbers are those of `proto/baton/otlp/v1`; the
/// generated types there decode what this writes in the tests.
struct OTLPEncoder {
    private(set) var bytes: [UInt8] = []

    /// The request holding `spans` under the resource `service.name=baton`, `service.version`.
    static func exportRequest(_ spans: some Collection<FinishedSpan>, serviceVersion: String) -> [UInt8] {
        exportRequest(encodedSpans: [encodedSpans(spans)], serviceVersion: serviceVersion)
    }

    /// `spans` as entries of `ScopeSpans.spans` (each tagged and length-prefixed), ready to be
    /// placed in a request by ``exportRequest(encodedSpans:serviceVersion:)``: spans are encoded
    /// where they end, and only bytes wait for the export.
    static func encodedSpans(_ spans: some Collection<FinishedSpan>) -> [UInt8] {
        let sizes = spans.map(spanSize)  // each span's size, computed once
        var encoder = OTLPEncoder()
        encoder.bytes.reserveCapacity(sizes.reduce(0) { $0 + field($1) })
        for (span, size) in zip(spans, sizes) { encoder.span(span, size: size) }
        return encoder.bytes
    }

    /// The request holding the spans encoded in `chunks` (by ``encodedSpans(_:)``).
    static func exportRequest(encodedSpans chunks: [[UInt8]], serviceVersion: String) -> [UInt8] {
        let resource: [(String, FinishedSpan.Value)] = [("service.name", .string("baton")), ("service.version", .string(serviceVersion))]
        let resourceSize = resource.reduce(0) { $0 + field(keyValueSize($1)) }
        let scopeSize = field(stringSize("baton")) + field(stringSize(serviceVersion))
        let spansSize = chunks.reduce(0) { $0 + $1.count }
        let scopeSpansSize = field(scopeSize) + spansSize
        let resourceSpansSize = field(resourceSize) + field(scopeSpansSize)
        var encoder = OTLPEncoder()
        encoder.bytes.reserveCapacity(field(resourceSpansSize))
        encoder.header(1, resourceSpansSize)            // ExportTraceServiceRequest.resource_spans
        encoder.header(1, resourceSize)                 // ResourceSpans.resource
        for attribute in resource { encoder.keyValue(1, attribute) }
        encoder.header(2, scopeSpansSize)               // ResourceSpans.scope_spans
        encoder.header(1, scopeSize)                    // ScopeSpans.scope
        encoder.string(1, "baton")
        encoder.string(2, serviceVersion)
        for chunk in chunks { encoder.bytes.append(contentsOf: chunk) }  // ScopeSpans.spans
        return encoder.bytes
    }

    // MARK: - Messages

    private mutating func span(_ span: FinishedSpan, size: Int) {
        header(2, size)
        header(1, 16)
        bigEndian(span.traceID.high)
        bigEndian(span.traceID.low)
        header(2, 8)
        bigEndian(span.spanID.value)
        if let parent = span.parentSpanID {
            header(4, 8)
            bigEndian(parent.value)
        }
        string(5, span.name)
        varint(6, 1)                                    // SPAN_KIND_INTERNAL
        fixed64(7, Self.nanoseconds(span.start))
        fixed64(8, Self.nanoseconds(max(span.start, span.end)))
        for attribute in span.attributes { keyValue(9, attribute) }
        for event in span.events {
            header(11, Self.eventSize(event))
            fixed64(1, Self.nanoseconds(event.time))
            string(2, event.name)
            for attribute in event.attributes { keyValue(3, attribute) }
        }
        if let (code, message) = Self.status(span.status) {
            header(15, Self.statusSize(code, message))
            if !message.isEmpty { string(2, message) }
            varint(3, code)
        }
        tag(16, wireType: 5)                            // flags: the W3C trace flags
        bytes.append(contentsOf: [span.sampled ? 1 : 0, 0, 0, 0])
    }

    private mutating func keyValue(_ number: Int, _ attribute: (String, FinishedSpan.Value)) {
        header(number, Self.keyValueSize(attribute))
        string(1, attribute.0)
        header(2, Self.anyValueSize(attribute.1))
        switch attribute.1 {
        case .string(let text): string(1, text)
        case .bool(let flag): varint(2, flag ? 1 : 0)
        case .int(let number): varint(3, UInt64(bitPattern: Int64(number)))
        }
    }

    // MARK: - Sizes

    private static func spanSize(_ span: FinishedSpan) -> Int {
        var size = field(16) + field(8) + (span.parentSpanID == nil ? 0 : field(8)) + field(stringSize(span.name))
        size += 2 + 9 + 9 + 6                           // kind, start, end, flags (field 16: a two-byte tag)
        for attribute in span.attributes { size += field(keyValueSize(attribute)) }
        for event in span.events { size += field(eventSize(event)) }
        if let (code, message) = status(span.status) { size += field(statusSize(code, message)) }
        return size
    }

    private static func eventSize(_ event: FinishedSpan.Event) -> Int {
        event.attributes.reduce(9 + field(stringSize(event.name))) { $0 + field(keyValueSize($1)) }
    }

    private static func statusSize(_ code: UInt64, _ message: String) -> Int {
        (message.isEmpty ? 0 : field(stringSize(message))) + 1 + varintSize(code)
    }

    private static func keyValueSize(_ attribute: (String, FinishedSpan.Value)) -> Int {
        field(stringSize(attribute.0)) + field(anyValueSize(attribute.1))
    }

    private static func anyValueSize(_ value: FinishedSpan.Value) -> Int {
        switch value {
        case .string(let text): field(stringSize(text))
        case .bool: 2
        case .int(let number): 1 + varintSize(UInt64(bitPattern: Int64(number)))
        }
    }

    private static func status(_ status: FinishedSpan.Status) -> (code: UInt64, message: String)? {
        switch status {
        case .unset: nil
        case .ok: (1, "")
        case .error(let message): (2, message)
        }
    }

    /// A length-delimited field's size with its tag (one byte: every such field number is below 16)
    /// and length prefix, from the payload's size.
    private static func field(_ payload: Int) -> Int { 1 + varintSize(UInt64(payload)) + payload }
    private static func stringSize(_ text: String) -> Int { text.utf8.count }
    private static func varintSize(_ value: UInt64) -> Int { value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7 }

    private static func nanoseconds(_ instant: Instant) -> UInt64 {
        UInt64(max(0, instant.millisecondsSinceEpoch)) &* 1_000_000
    }

    // MARK: - Wire

    private mutating func tag(_ number: Int, wireType: UInt8) {
        rawVarint(UInt64(number << 3) | UInt64(wireType))
    }

    private mutating func header(_ number: Int, _ length: Int) {
        tag(number, wireType: 2)
        rawVarint(UInt64(length))
    }

    private mutating func string(_ number: Int, _ text: String) {
        header(number, text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func varint(_ number: Int, _ value: UInt64) {
        tag(number, wireType: 0)
        rawVarint(value)
    }

    private mutating func fixed64(_ number: Int, _ value: UInt64) {
        tag(number, wireType: 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// An id's 8 bytes, most significant first.
    private mutating func bigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
