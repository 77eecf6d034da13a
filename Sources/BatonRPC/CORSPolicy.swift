import BatonHTTP2
import NIOCore

/// Which other origins' pages may call the API from a browser (Cross-Origin Resource Sharing), and
/// the headers that say so. Empty (the default) allows none: only pages served by Baton itself (same
/// origin) may call it. `*` allows every origin.
///
/// ```swift
/// var configuration = RPCServerConfiguration(router: router)
/// configuration.cors = CORSPolicy(allowedOrigins: ["http://localhost:3000"])
/// ```
public struct CORSPolicy: Sendable, Equatable {
    /// Origins (`scheme://host[:port]`) allowed, or `*`.
    public var allowedOrigins: Set<String>
    /// How long a browser may cache a preflight answer.
    public var maxAgeSeconds = 7200

    /// A policy allowing `allowedOrigins`.
    public init(allowedOrigins: Set<String> = []) {
        self.allowedOrigins = allowedOrigins
    }

    /// Response headers a browser must be able to read (gRPC-Web and Connect carry their status and
    /// metadata in headers).
    static let exposedHeaders = "grpc-status, grpc-message, grpc-status-details-bin, grpc-accept-encoding, "
        + "connect-content-encoding, connect-accept-encoding, content-encoding, content-type"

    /// Whether a request from `origin` may be answered with CORS headers.
    func allows(_ origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin)
    }

    /// What to do with a request given its head.
    enum Verdict: Equatable {
        /// Not cross-origin (or not allowed): answer as usual, with no CORS headers.
        case plain
        /// An allowed cross-origin request: add these headers to its response.
        case decorate([HTTP2Header])
        /// A preflight (`OPTIONS` with `access-control-request-method`): answer it with this status and these headers.
        case preflight(status: Int, headers: [HTTP2Header], message: String)
    }

    func verdict(_ headers: [HTTP2Header]) -> Verdict {
        guard let origin = headers.first(named: "origin") else { return .plain }
        let isPreflight = headers.first(named: ":method") == "OPTIONS"
            && headers.first(named: "access-control-request-method") != nil
        guard allows(origin) else {
            return isPreflight
                ? .preflight(status: 403, headers: [],
                             message: "origin '\(origin)' may not call this server (allow it with --cors-origin)")
                : .plain
        }
        let common = [HTTP2Header("access-control-allow-origin", origin), HTTP2Header("vary", "origin")]
        guard isPreflight else {
            return .decorate(common + [HTTP2Header("access-control-expose-headers", Self.exposedHeaders)])
        }
        var allowed = common + [HTTP2Header("access-control-allow-methods", "GET, POST"),
                                HTTP2Header("access-control-max-age", String(maxAgeSeconds))]
        if let requested = headers.first(named: "access-control-request-headers") {
            allowed.append(HTTP2Header("access-control-allow-headers", requested))
        }
        return .preflight(status: 204, headers: allowed, message: "")
    }
}
