import BatonHTTP2
import Foundation
import NIOCore

extension WireProtocol {
    /// gRPC's status fields: `grpc-status`, `grpc-message` (percent-encoded), then extra fields and the
    /// trailing metadata (and the error's own).
    static func grpcStatusFields(_ status: RPCError, extra: [HTTP2Header], trailing: Metadata) -> [HTTP2Header] {
        var fields = [HTTP2Header("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty {
            fields.append(HTTP2Header("grpc-message", PercentEncoding.encode(status.message)))
        }
        return fields + extra + status.metadata.headers + trailing.headers
    }

    /// The last body bytes of a gRPC-Web or Connect streaming response: gRPC-Web's trailer frame
    /// (flag 0x80, `name: value` lines), or Connect's end-of-stream message (flag 0x02, JSON with the
    /// error and the trailing metadata).
    func endOfStream(_ status: RPCError, trailing: Metadata) -> ByteBuffer {
        switch family {
        case .connectStream:
            var object: [String: Any] = [:]
            if status.code != .ok { object["error"] = Self.connectError(status) }
            let metadata = Self.connectMetadata(status.metadata.headers + trailing.headers)
            if !metadata.isEmpty { object["metadata"] = metadata }
            return frame(ByteBuffer(bytes: Self.json(object)), flag: 0x02)
        default:
            let lines = Self.grpcStatusFields(status, extra: [], trailing: trailing)
                .map { "\($0.name): \($0.value)\r\n" }.joined()
            return frame(ByteBuffer(string: lines), flag: 0x80)
        }
    }

    /// The whole response of a Connect unary call: 200 with the message (trailing metadata as
    /// `trailer-` headers), or the error's HTTP status with Connect's JSON error body.
    func unaryEnding(_ status: RPCError, response: ByteBuffer?, initial: Metadata, trailing: Metadata)
        -> (head: [HTTP2Header], body: ByteBuffer) {
        let trailers = trailing.headers.map { HTTP2Header("trailer-\($0.name)", $0.value) }
        if status.code == .ok, let response {
            let head = [HTTP2Header(":status", "200"), HTTP2Header("content-type", responseContentType),
                        HTTP2Header("content-length", String(response.readableBytes))]
            return (head + initial.headers + trailers, response)
        }
        let error = status.code == .ok
            ? RPCError(code: .internal, message: "the handler returned no response") : status
        let body = ByteBuffer(bytes: Self.json(Self.connectError(error)))
        let head = [HTTP2Header(":status", String(error.code.connectHTTPStatus)),
                    HTTP2Header("content-type", "application/json"),
                    HTTP2Header("content-length", String(body.readableBytes))]
        return (head + initial.headers + error.metadata.headers + trailers, body)
    }

    /// Connect's error object: `{"code": "not_found", "message": "…"}`.
    static func connectError(_ status: RPCError) -> [String: Any] {
        var error: [String: Any] = ["code": status.code.connectName]
        if !status.message.isEmpty { error["message"] = status.message }
        return error
    }

    /// Metadata as Connect's JSON form: every name with the list of its values.
    static func connectMetadata(_ fields: [HTTP2Header]) -> [String: [String]] {
        var metadata: [String: [String]] = [:]
        for field in fields { metadata[field.name, default: []].append(field.value) }
        return metadata
    }

    static func json(_ object: Any) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}
