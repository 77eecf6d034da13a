import BatonHTTP2
import NIOCore

/// The validated request head of an RPC, in any of the protocols ``WireProtocol`` speaks.
struct ServerRequestHead {
    /// The method path (without a query).
    var path: String
    /// The handler the router found.
    var handler: RPCHandler
    /// Custom metadata.
    var metadata: Metadata
    /// The requested timeout (`grpc-timeout` or `connect-timeout-ms`), if sent.
    var timeout: Duration?
    /// The request message of a Connect GET (it travels in the query, not the body).
    var queryMessage: ByteBuffer?
    /// The request declared gzip compression (`grpc-encoding`, `content-encoding`,
    /// `connect-content-encoding`): its compressed messages are inflated.
    var gzip = false

    /// What to do with a request, decided from its head alone.
    enum Verdict {
        /// Serve it.
        case accept(ServerRequestHead)
        /// Answer with a plain HTTP status (the protocol cannot carry an RPC status).
        case rejectHTTP(status: Int, message: String)
        /// Refuse it with this status, in the call's protocol (and extra trailers for gRPC).
        case rejectRPC(RPCError, extraTrailers: [HTTP2Header])
    }

    /// Checks method, transport, encoding, timeout, path and shape, in the order gRPC servers do.
    static func validate(_ headers: [HTTP2Header], wire: inout WireProtocol, router: RPCRouter,
                         supportsTrailers: Bool) -> Verdict {
        let method = headers.first(named: ":method") ?? "POST"
        if wire.family == .grpc, !supportsTrailers {
            return .rejectHTTP(status: 415, message: "gRPC needs HTTP/2; over HTTP/1.1 use gRPC-Web "
                + "(application/grpc-web+proto) or Connect (application/json, application/connect+json)")
        }
        let isGet = method == "GET" && wire.family == .connectUnary
        if method != "POST", !isGet {
            return .rejectHTTP(status: 405, message: "RPCs are called with POST (or GET for side-effect-free "
                + "Connect methods), got \(method)")
        }
        let encodingHeader: String = switch wire.family {
        case .grpc, .grpcWeb: "grpc-encoding"
        case .connectUnary: "content-encoding"
        case .connectStream: "connect-content-encoding"
        }
        let encoding = headers.first(named: encodingHeader) ?? "identity"
        guard encoding == "identity" || encoding == "gzip" else {
            return .rejectRPC(
                RPCError(code: .unimplemented,
                         message: "\(encodingHeader) '\(encoding)' is not supported; use identity or gzip"),
                extraTrailers: [HTTP2Header("grpc-accept-encoding", Self.acceptedEncodings)])
        }
        let timeout: Duration?
        do {
            timeout = try wire.timeout(in: headers)
        } catch {
            return .rejectRPC(error, extraTrailers: [])
        }
        let target = URLQuery(headers.first(named: ":path") ?? "")
        let handler: RPCHandler
        switch router.lookup(target.path) {
        case .found(let found):
            handler = found
        case .unknownMethod(let service, let method):
            return .rejectRPC(RPCError(code: .unimplemented, message: "method '\(method)' of service '\(service)' is not implemented"),
                              extraTrailers: [])
        case .unknownService(let service):
            return .rejectRPC(RPCError(code: .unimplemented, message: "service '\(service)' is not implemented"),
                              extraTrailers: [])
        }
        guard wire.accepts(handler.kind) else {
            let expected = handler.kind == .unary ? "application/json or application/proto"
                : "application/connect+json or application/connect+proto"
            return .rejectHTTP(status: 415, message: "\(target.path) is a \(handler.kind == .unary ? "unary" : "streaming") "
                + "method: over Connect its content-type is \(expected)")
        }
        var head = ServerRequestHead(path: target.path, handler: handler, metadata: Metadata(headers: headers),
                                     timeout: timeout)
        head.gzip = encoding == "gzip"
        if isGet {
            switch queryMessage(target, handler: handler) {
            case .success(let (codec, message)):
                wire.codec = codec
                head.queryMessage = message
            case .failure(let error) where error.metadata["x-http-status"] == "415":
                return .rejectHTTP(status: 415, message: error.message)
            case .failure(let error):
                return .rejectRPC(error, extraTrailers: [])
            }
        }
        return .accept(head)
    }

    /// The encodings request messages may use.
    static let acceptedEncodings = "identity, gzip"
    /// The largest inflated message a GET may carry (its URL is far smaller).
    static let maxQueryMessage = 1 << 20

    /// The request of a Connect GET: `?connect=v1&encoding=json|proto&message=…[&base64=1]`.
    private static func queryMessage(_ target: URLQuery, handler: RPCHandler)
        -> Result<(MessageCodec, ByteBuffer), RPCError> {
        guard handler.isSideEffectFree else {
            return .failure(RPCError(code: .unimplemented, message: "\(target.path) changes state: call it with POST "
                + "(GET is for side-effect-free methods)"))
        }
        if let version = target["connect"], version != "v1" {
            return .failure(RPCError(code: .invalidArgument, message: "connect: unsupported protocol version '\(version)'; use v1"))
        }
        let codec: MessageCodec
        switch target["encoding"] {
        case "json": codec = .json
        case "proto": codec = .proto
        case let other:
            // An unknown codec is 415, like an unknown content type on POST (Connect's Unary-Get-Request).
            return .failure(RPCError(code: .unimplemented,
                                     message: "encoding: \(other.map { "'\($0)' is not supported" } ?? "missing"); "
                                         + "use json or proto", metadata: Metadata([("x-http-status", "415")])))
        }
        let compression = target["compression"] ?? "identity"
        guard compression == "identity" || compression == "gzip" else {
            return .failure(RPCError(code: .unimplemented,
                                     message: "compression '\(compression)' is not supported; use identity or gzip"))
        }
        let text = target["message"] ?? ""
        var message = ByteBuffer(string: text)
        if target["base64"] == "1" {
            guard let bytes = Base64.decode(text) else {
                return .failure(RPCError(code: .invalidArgument, message: "message: not valid base64 (base64=1)"))
            }
            message = ByteBuffer(bytes: bytes)
        }
        if compression == "gzip" {
            do {
                message = try Gzip.decompress(message, limit: maxQueryMessage)
            } catch {
                return .failure(error)
            }
        }
        return .success((codec, message))
    }
}
