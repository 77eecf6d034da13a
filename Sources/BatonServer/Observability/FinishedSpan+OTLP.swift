import BatonCore
import BatonProto
import Foundation
import SwiftProtobuf

extension FinishedSpan {
    /// OTLP's form of the span.
    var otlp: Baton_Otlp_V1_Span {
        .with { span in
            span.traceID = Self.bytes(hex: traceID)
            span.spanID = Self.bytes(hex: spanID)
            if let parentSpanID { span.parentSpanID = Self.bytes(hex: parentSpanID) }
            span.name = name
            span.kind = .internal
            span.startTimeUnixNano = Self.nanoseconds(start)
            span.endTimeUnixNano = Self.nanoseconds(max(start, end))
            span.attributes = attributes.map(Self.keyValue)
            span.events = events.map { event in
                .with {
                    $0.timeUnixNano = Self.nanoseconds(event.time)
                    $0.name = event.name
                    $0.attributes = event.attributes.map(Self.keyValue)
                }
            }
            switch status {
            case .unset: break
            case .ok: span.status = .with { $0.code = .ok }
            case .error(let message): span.status = .with { $0.code = .error; $0.message = message }
            }
            span.flags = sampled ? 1 : 0  // the W3C trace flags
        }
    }

    /// An export request holding `spans` under the resource `service` (`service.name` baton).
    static func exportRequest(_ spans: some Sequence<FinishedSpan>, serviceVersion: String) -> Baton_Otlp_V1_ExportTraceServiceRequest {
        .with { request in
            request.resourceSpans = [.with { resource in
                resource.resource = .with {
                    $0.attributes = [
                        keyValue(("service.name", .string("baton"))),
                        keyValue(("service.version", .string(serviceVersion))),
                    ]
                }
                resource.scopeSpans = [.with { scope in
                    scope.scope = .with { $0.name = "baton"; $0.version = serviceVersion }
                    scope.spans = spans.map(\.otlp)
                }]
            }]
        }
    }

    private static func keyValue(_ attribute: (String, Value)) -> Baton_Otlp_V1_KeyValue {
        .with { pair in
            pair.key = attribute.0
            pair.value = .with {
                switch attribute.1 {
                case .string(let text): $0.stringValue = text
                case .int(let number): $0.intValue = Int64(number)
                case .bool(let flag): $0.boolValue = flag
                }
            }
        }
    }

    private static func nanoseconds(_ instant: Instant) -> UInt64 {
        UInt64(max(0, instant.millisecondsSinceEpoch)) &* 1_000_000
    }

    /// The bytes of a hex id (ids here are made by Baton or checked by ``TraceParent``).
    static func bytes(hex: String) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for character in hex.utf8 {
            let nibble: UInt8 = switch character {
            case 0x30...0x39: character - 0x30
            case 0x61...0x66: character - 0x61 + 10
            case 0x41...0x46: character - 0x41 + 10
            default: 0
            }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return Data(bytes)
    }
}
