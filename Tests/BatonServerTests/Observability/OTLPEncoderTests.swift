import BatonCore
import BatonProto
import Foundation
import SwiftProtobuf
import Testing

@testable import BatonServer

/// The hand-written OTLP encoding decodes, field by field, with the generated OTLP messages.
@Suite(.timeLimit(.minutes(1))) struct OTLPEncoderTests {
    @Test func everySpanFieldDecodes() throws {
        var spans = try RunSpansTests.builder()
        let ended = RunSpansTests.history.flatMap { spans.apply($0) }
        var unsampled = ended[0]
        unsampled.sampled = false
        unsampled.attributes.append(("baton.negative", .int(-3)))
        let all = ended + [unsampled]
        let bytes = OTLPEncoder.exportRequest(all, serviceVersion: "9.9")
        let request = try Baton_Otlp_V1_ExportTraceServiceRequest(serializedBytes: bytes)
        let resource = try #require(request.resourceSpans.first)
        #expect(resource.resource.attributes.map(\.key) == ["service.name", "service.version"])
        #expect(resource.resource.attributes.first?.value.stringValue == "baton")
        let scope = try #require(resource.scopeSpans.first)
        #expect(scope.scope.name == "baton" && scope.scope.version == "9.9")
        #expect(scope.spans.count == all.count)
        for (span, decoded) in zip(all, scope.spans) {
            #expect(decoded.traceID.map { String(format: "%02x", $0) }.joined() == "\(span.traceID)")
            #expect(decoded.spanID.map { String(format: "%02x", $0) }.joined() == "\(span.spanID)")
            #expect(decoded.parentSpanID.map { String(format: "%02x", $0) }.joined() == (span.parentSpanID.map { "\($0)" } ?? ""))
            #expect(decoded.name == span.name && decoded.kind == .internal)
            #expect(decoded.startTimeUnixNano == UInt64(span.start.millisecondsSinceEpoch) * 1_000_000)
            #expect(decoded.endTimeUnixNano == UInt64(span.end.millisecondsSinceEpoch) * 1_000_000)
            #expect(decoded.flags == (span.sampled ? 1 : 0))
            #expect(decoded.attributes.map(\.key) == span.attributes.map(\.0))
            for (attribute, value) in zip(span.attributes, decoded.attributes.map(\.value)) {
                switch attribute.1 {
                case .string(let text): #expect(value.stringValue == text)
                case .int(let number): #expect(value.intValue == Int64(number))
                case .bool(let flag): #expect(value.boolValue == flag)
                }
            }
            #expect(decoded.events.map(\.name) == span.events.map(\.name))
            #expect(decoded.events.map(\.timeUnixNano) == span.events.map { UInt64($0.time.millisecondsSinceEpoch) * 1_000_000 })
            switch span.status {
            case .unset: #expect(!decoded.hasStatus)
            case .ok: #expect(decoded.status.code == .ok)
            case .error(let message): #expect(decoded.status.code == .error && decoded.status.message == message)
            }
        }
    }
}
