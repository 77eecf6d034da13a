import BatonHTTP2
import NIOCore

/// The protocol a call speaks, decided from its request head: gRPC, gRPC-Web (binary or base64 text)
/// or Connect (unary or streaming), each with its message codec. Formats what the call sends in that
/// protocol's terms: the response head, each message, and the end with the status.
struct WireProtocol: Equatable {
    /// The protocol family.
    enum Family: Equatable {
        /// gRPC over HTTP/2 (status in trailers).
        case grpc
        /// gRPC-Web: the status in a trailer frame inside the body; `text` sends base64.
        case grpcWeb(text: Bool)
        /// Connect unary: the whole body is the message; errors as an HTTP status with a JSON body.
        case connectUnary
        /// Connect streaming: enveloped messages, ending with an end-of-stream message.
        case connectStream
    }

    var family: Family
    var codec: MessageCodec

    /// What a request's head says about its protocol.
    enum Detection: Equatable {
        /// One of the RPC protocols.
        case rpc(WireProtocol)
        /// An RPC content type that is not supported (answer 415 with this message).
        case unsupported(String)
        /// Not an RPC request at all (a page, an event stream, a health check).
        case notRPC
    }

    /// Detects the protocol from `content-type` (and, for Connect's GET form, the method).
    static func detect(method: String, contentType rawContentType: String?) -> Detection {
        if method == "GET" {
            return .rpc(WireProtocol(family: .connectUnary, codec: .json))  // the codec comes from the query
        }
        guard let rawContentType else { return .notRPC }
        let contentType = rawContentType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        func codec(_ suffix: Substring) -> MessageCodec? {
            switch suffix {
            case "", "+proto": .proto
            case "+json": .json
            default: nil
            }
        }
        let families: [(prefix: String, family: Family)] = [
            ("application/grpc-web-text", .grpcWeb(text: true)), ("application/grpc-web", .grpcWeb(text: false)),
            ("application/grpc", .grpc), ("application/connect", .connectStream),
        ]
        for (prefix, family) in families where contentType.hasPrefix(prefix) {
            guard let codec = codec(contentType.dropFirst(prefix.count)) else {
                return .unsupported("unsupported message format in content-type '\(rawContentType)'; "
                    + "use \(prefix)+proto or \(prefix)+json")
            }
            return .rpc(WireProtocol(family: family, codec: codec))
        }
        switch contentType {
        case "application/proto": return .rpc(WireProtocol(family: .connectUnary, codec: .proto))
        case "application/json": return .rpc(WireProtocol(family: .connectUnary, codec: .json))
        default: return .notRPC
        }
    }

    /// Whether messages travel in 5-byte-prefixed envelopes (everything but Connect unary).
    var isEnveloped: Bool { family != .connectUnary }

    /// Whether the call's shape fits the protocol (Connect unary carries unary calls only, and
    /// Connect streaming only streaming ones).
    func accepts(_ kind: RPCKind) -> Bool {
        switch family {
        case .connectUnary: kind == .unary
        case .connectStream: kind != .unary
        case .grpc, .grpcWeb: true
        }
    }

    /// The response's content type.
    var responseContentType: String {
        switch family {
        case .grpc: codec == .proto ? "application/grpc" : "application/grpc+json"
        case .grpcWeb(let text): "application/grpc-web\(text ? "-text" : "")+\(codec.name)"
        case .connectUnary: "application/\(codec.name)"
        case .connectStream: "application/connect+\(codec.name)"
        }
    }

    /// The header advertising the request compressions the server takes, for the response head.
    var acceptEncodingHeader: HTTP2Header {
        switch family {
        case .grpc, .grpcWeb: HTTP2Header("grpc-accept-encoding", ServerRequestHead.acceptedEncodings)
        case .connectUnary: HTTP2Header("accept-encoding", "gzip")
        case .connectStream: HTTP2Header("connect-accept-encoding", "gzip")
        }
    }

    /// The timeout a request asks for: `grpc-timeout` for gRPC and gRPC-Web, `connect-timeout-ms` for
    /// Connect. nil when absent; throws INVALID_ARGUMENT when malformed.
    func timeout(in headers: [HTTP2Header]) throws(RPCError) -> Duration? {
        switch family {
        case .grpc, .grpcWeb:
            guard let value = headers.first(named: "grpc-timeout") else { return nil }
            guard let parsed = GRPCTimeout.parse(value) else {
                throw RPCError(code: .invalidArgument, message: "malformed grpc-timeout '\(value)'")
            }
            return parsed
        case .connectUnary, .connectStream:
            guard let value = headers.first(named: "connect-timeout-ms") else { return nil }
            guard value.count <= 10, let milliseconds = Int64(value), milliseconds >= 0 else {
                throw RPCError(code: .invalidArgument,
                               message: "connect-timeout-ms: '\(value)' is not a whole number of milliseconds "
                                   + "of at most 10 digits")
            }
            return .milliseconds(milliseconds)
        }
    }

    /// Frames one message for the wire (an envelope with flag `flag`, base64 for gRPC-Web text).
    func frame(_ payload: ByteBuffer, flag: UInt8 = 0) -> ByteBuffer {
        guard isEnveloped else { return payload }
        var framed = ByteBuffer()
        framed.reserveCapacity(5 + payload.readableBytes)
        framed.writeInteger(flag)
        framed.writeInteger(UInt32(payload.readableBytes))
        framed.writeImmutableBuffer(payload)
        if case .grpcWeb(text: true) = family {
            return ByteBuffer(string: Base64.encode(Array(framed.readableBytesView), padded: true))
        }
        return framed
    }
}
