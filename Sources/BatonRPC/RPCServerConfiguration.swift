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

    /// Creates a configuration serving `router`.
    public init(router: RPCRouter) {
        self.router = router
    }
}
