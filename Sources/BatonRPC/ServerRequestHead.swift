import BatonHTTP2

/// The validated request headers of a gRPC call.
struct ServerRequestHead {
    /// The method path.
    var path: String
    /// The handler the router found.
    var handler: RPCHandler
    /// Custom metadata.
    var metadata: Metadata
    /// The `grpc-timeout`, if sent.
    var timeout: Duration?

    /// What to do with a request, decided from its headers alone.
    enum Verdict {
        /// Serve it.
        case accept(ServerRequestHead)
        /// Not gRPC: answer with a plain HTTP status.
        case rejectHTTP(status: Int, message: String)
        /// gRPC, but refused: answer Trailers-Only with this status (and extra trailers).
        case rejectRPC(RPCError, extraTrailers: [HTTP2Header])
    }

    /// Checks content-type, encoding, timeout and path, in the order gRPC servers do.
    static func validate(_ headers: [HTTP2Header], router: RPCRouter) -> Verdict {
        let contentType = headers.first(named: "content-type") ?? ""
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
            || contentType.hasPrefix("application/grpc;")
        else {
            return .rejectHTTP(status: 415, message: "content-type must be application/grpc, got '\(contentType)'")
        }
        if contentType.hasPrefix("application/grpc+"), !contentType.hasPrefix("application/grpc+proto") {
            return .rejectHTTP(status: 415, message: "unsupported gRPC message format '\(contentType)'")
        }
        if let method = headers.first(named: ":method"), method != "POST" {
            return .rejectHTTP(status: 405, message: "gRPC requires POST, got \(method)")
        }
        if let encoding = headers.first(named: "grpc-encoding"), encoding != "identity" {
            return .rejectRPC(
                RPCError(code: .unimplemented, message: "grpc-encoding '\(encoding)' is not supported; use identity"),
                extraTrailers: [HTTP2Header("grpc-accept-encoding", "identity")])
        }
        var timeout: Duration?
        if let value = headers.first(named: "grpc-timeout") {
            guard let parsed = GRPCTimeout.parse(value) else {
                return .rejectRPC(RPCError(code: .invalidArgument, message: "malformed grpc-timeout '\(value)'"),
                                  extraTrailers: [])
            }
            timeout = parsed
        }
        let path = headers.first(named: ":path") ?? ""
        switch router.lookup(path) {
        case .found(let handler):
            return .accept(ServerRequestHead(path: path, handler: handler, metadata: Metadata(headers: headers),
                                             timeout: timeout))
        case .unknownMethod(let service, let method):
            return .rejectRPC(RPCError(code: .unimplemented, message: "method '\(method)' of service '\(service)' is not implemented"),
                              extraTrailers: [])
        case .unknownService(let service):
            return .rejectRPC(RPCError(code: .unimplemented, message: "service '\(service)' is not implemented"),
                              extraTrailers: [])
        }
    }
}
