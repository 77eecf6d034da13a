import BatonEngine
import BatonHTTP2
import BatonStore

/// How `baton server` runs.
public struct ServerConfiguration: Sendable {
    /// Where the API listens.
    public var listen = ListenAddress.default
    /// Mount `grpc.testing.TestService` (interop conformance; off by default).
    public var enableTestService = false
    /// How long a graceful shutdown lets in-flight calls run before closing them.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// The directory holding the SQLite history (`baton.sqlite`). `nil` keeps everything in memory
    /// (tests only: nothing survives a restart).
    public var dataDirectory: String?
    /// `full` (default: an acknowledged call survives power loss) or `normal` (faster; a power loss
    /// may lose the last acknowledged calls, a process crash loses nothing).
    public var durability: Durability = .full
    /// Calls in progress at once, server-wide and per connection; more are answered RESOURCE_EXHAUSTED.
    public var maxCallsInProgress = 16_384
    /// Calls in progress at once on one connection (`streams_per_connection`; also advertised as
    /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
    public var maxCallsInProgressPerConnection = 256
    /// Open client connections, all protocols together (`connections`); requests on a connection past
    /// it are answered RESOURCE_EXHAUSTED and the connection is closed.
    public var maxConnections = 4_096
    /// Calls per second per token when the auth file gives the token no rate of its own
    /// (`requests_per_second`; 0: unlimited).
    public var requestsPerSecond = 0
    /// What one run may hold (payloads, history, pending signals, subscribers, ids, definitions).
    public var limits = RuntimeLimits()
    /// Response bytes all connections together may hold for peers that have not read them; a response
    /// past it is refused with RESOURCE_EXHAUSTED instead of queued.
    public var maxUnreadResponseBytes = 256 * 1024 * 1024
    /// Response bytes one connection may hold for a peer that has not read them.
    public var maxUnreadResponseBytesPerConnection = 32 * 1024 * 1024

    /// Origins (`scheme://host[:port]`, or `*` for any) whose pages may call the API from a browser
    /// (CORS); empty: only the server's own pages.
    public var corsOrigins: [String] = []
    /// The accepted tokens (`--auth-file`); nil: every caller may do everything (development).
    public var auth: AuthFile?
    /// TLS on the API port (PEM files); nil: cleartext.
    public var tls: ServerTLS.Files?
    /// Where to export traces over OTLP/HTTP; nil: no export (trace ids are still recorded).
    public var otlpEndpoint: OTLPEndpoint?

    /// The defaults.
    public init() {}
}
