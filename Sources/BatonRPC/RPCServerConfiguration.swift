import BatonHTTP2

/// How an `RPCServer` behaves: its methods and limits.
public struct RPCServerConfiguration: Sendable {
    /// The methods served.
    public var router: RPCRouter
    /// The largest request message accepted (bigger: `RESOURCE_EXHAUSTED`). Default 4 MiB.
    public var maxReceiveMessageSize = 4 * 1024 * 1024
    /// Request bytes a call may hold unread before the client's window stops being refilled.
    public var maxBufferedRequestBytes = 1024 * 1024
    /// Calls whose handlers may run at once, server-wide (more: `RESOURCE_EXHAUSTED`).
    public var maxCallsInProgress = 16_384
    /// Calls whose handlers may run at once on one connection (more: `RESOURCE_EXHAUSTED`).
    public var maxCallsInProgressPerConnection = 256
    /// HTTP/2 settings.
    public var http2 = HTTP2Settings()
    /// Answers the requests that are not RPCs (pages, event streams, health checks), over either HTTP
    /// version; nil: such requests get 415 (HTTP/2) or 426 (HTTP/1.1).
    public var web: WebHandler?
    /// Other origins whose pages may call the server from a browser (none by default).
    public var cors = CORSPolicy()
    /// Decides whether a call to a served method may run, from its path and request metadata (e.g.
    /// `authorization`); the error is sent instead of running the handler. Nil: every call may.
    public var authorize: (@Sendable (_ path: String, _ metadata: Metadata) -> RPCError?)?
    /// Called once per finished call, on the connection's event loop (metrics); must be quick.
    public var callObserver: (@Sendable (FinishedCall) -> Void)?

    /// Creates a configuration serving `router`.
    public init(router: RPCRouter) {
        self.router = router
    }
}

/// A call the server finished: which method (empty for a path no service serves), its status and how
/// long it took from its request headers to its status.
public struct FinishedCall: Sendable {
    /// The fully-qualified service, e.g. `baton.v1.WorkflowService`; empty when the path names no served method.
    public var service: String
    /// The method, e.g. `StartWorkflow`; empty when the path names no served method.
    public var method: String
    /// The status sent.
    public var code: RPCStatusCode
    /// The status message (empty for OK).
    public var message: String
    /// The client's address.
    public var peer: String
    /// From the request headers to the status.
    public var duration: Duration

    /// A finished call from its parts.
    public init(service: String, method: String, code: RPCStatusCode, message: String, peer: String, duration: Duration) {
        self.service = service
        self.method = method
        self.code = code
        self.message = message
        self.peer = peer
        self.duration = duration
    }
}
