import BatonEngine
import BatonRPC
import Foundation
import NIOCore

/// What the port answers besides RPCs, over HTTP/1.1 and HTTP/2 alike: the web UI (assets embedded in
/// the binary), Server-Sent Events for progress, history and the live run list, and the health checks
/// `/healthz` (alive) and `/readyz` (store open, not shutting down), and Prometheus metrics at
/// `/metrics`. Every refusal is a 4xx with a
/// one-line text body.
struct WebRoutes: Sendable {
    let service: WorkflowService
    let health: HealthStatusBoard
    let streams: EventStreams
    let observability: ServerObservability
    let queues: TaskQueueDispatcher
    /// With an auth file: who may read `/metrics` and the event streams.
    let authenticator: Authenticator?

    /// The ``WebHandler`` serving these routes.
    var handler: WebHandler {
        let routes = self
        return { request, response in try await routes.handle(request, response) }
    }

    func handle(_ request: WebRequest, _ response: WebResponseWriter) async throws {
        let path = request.target.path
        guard request.method == "GET" || request.method == "HEAD" else {
            return try await response.send(status: 405, text: "\(request.method) \(path): only GET is served here",
                                           headers: [("allow", "GET")])
        }
        if let refusal = refusal(path, request) {
            let status = refusal.code == .unauthenticated ? 401 : refusal.code == .resourceExhausted ? 429 : 403
            var headers: [(String, String)] = []
            if status == 401 { headers.append(("www-authenticate", "Bearer")) }
            if let retry = refusal.metadata["retry-after"] { headers.append(("retry-after", retry)) }
            return try await response.send(status: status, text: "\(path): \(refusal.message)", headers: headers)
        }
        switch path {
        case "/healthz":
            return try await response.send(status: 200, text: "ok", headers: [("cache-control", "no-store")])
        case "/readyz":
            let runtime = service.runtime
            if health.status(of: WorkflowService.name) != .serving {
                return try await response.send(status: 503, text: "not ready: the server is shutting down")
            }
            if runtime.storeHealth.isFailing {
                return try await response.send(status: 503, text: "not ready: the history store is failing")
            }
            return try await response.send(status: 200, text: "ready", headers: [("cache-control", "no-store")])
        case "/metrics":
            await observability.settle()  // a scrape counts every commit made before it
            let text = await observability.metrics.scrape(runtime: service.runtime, queues: queues)
            return try await response.send(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                           body: ByteBuffer(bytes: text), headers: [("cache-control", "no-store")])
        case "/v1/workflows":
            return try await streams.runList(request, response)
        case "/v1/circuit-breakers":
            return try await streams.breakers(request, response)
        default:
            break
        }
        if path.hasPrefix("/v1/workflows/") {
            let rest = path.dropFirst("/v1/workflows/".count).split(separator: "/", omittingEmptySubsequences: false)
            if rest.count == 2, let id = String(rest[0]).removingPercentEncoding {
                switch rest[1] {
                case "progress": return try await streams.progress(id, request, response)
                case "history": return try await streams.history(id, request, response)
                default: break
                }
            }
            return try await response.send(status: 404, text: "\(path): no such stream; use "
                + "/v1/workflows/{id}/progress or /v1/workflows/{id}/history")
        }
        try await asset(path, response)
    }

    /// Why `request` may not read `path` (metrics and event streams need a token whose role reads
    /// runs; circuit breakers need admin); nil when it may, or when there is no auth file.
    private func refusal(_ path: String, _ request: WebRequest) -> RPCError? {
        guard let authenticator, path == "/metrics" || path.hasPrefix("/v1/") else { return nil }
        let presented: Result<AuthFile.Token, RPCError>
        if request.header("authorization") == nil, path.hasPrefix("/v1/"), let ticket = request.target["ticket"] {
            // A browser's EventSource cannot send headers: a ticket from IssueStreamTicket stands in.
            presented = service.tickets.redeem(ticket).map { .success($0) } ?? .failure(RPCError(
                code: .unauthenticated, message: "the ticket is unknown or expired; ask IssueStreamTicket for a new one"))
        } else {
            presented = authenticator.authenticate(request.header("authorization"))
        }
        switch presented {
        case .failure(let error):
            return error
        case .success(let token):
            let allowed = path == "/v1/circuit-breakers" ? token.role == .admin : token.role.readsRuns
            guard allowed else {
                return RPCError(code: .permissionDenied,
                                message: "token '\(token.name)' (role \(token.role.rawValue)) may not read this")
            }
            return path == "/metrics" ? nil : authenticator.admit(token)  // scrapes are not rate limited
        }
    }

    /// A file of the UI; `/` is index.html. Names come from the embedded table only, so no request
    /// can reach the file system.
    private func asset(_ path: String, _ response: WebResponseWriter) async throws {
        if path.contains("..") || path.contains("\\") || path.contains("//") || path.contains("%") {
            return try await response.send(status: 400, text: #"\#(path): '..', '\', '//' and escapes are not allowed in asset paths"#)
        }
        let name = path == "/" ? "/index.html" : path
        guard let file = WebAssets.file(name) else {
            return try await response.send(status: 404, text: "\(path): not found")
        }
        try await response.send(status: 200, contentType: file.contentType, body: file.body,
                                headers: [("cache-control", "no-cache"), ("x-content-type-options", "nosniff")])
    }
}
