import BatonHTTP2
import NIOCore

/// Answers a request that is not an RPC: a page, an asset, an event stream, a health check.
///
/// ```swift
/// configuration.web = { request, response in
///     guard request.target.path == "/healthz" else { return try await response.send(status: 404, text: "no such page") }
///     try await response.send(status: 200, text: "ok")
/// }
/// ```
public typealias WebHandler = @Sendable (WebRequest, WebResponseWriter) async throws -> Void

/// The head of a non-RPC request (its body is not read).
public struct WebRequest: Sendable {
    /// The method, e.g. `GET`.
    public var method: String
    /// The path and decoded query.
    public var target: URLQuery
    /// Every header field, names lowercased (pseudo-headers included).
    public var headers: [HTTP2Header]
    /// Identifies the connection.
    public var connection: ObjectIdentifier

    /// The first value of the header `name` (lowercase).
    public func header(_ name: String) -> String? {
        headers.first(named: name)
    }
}
