/// Connection-level HTTP/2 settings Baton advertises and enforces.
public struct HTTP2Settings: Sendable {
    /// TLS for accepted connections (server side); nil: cleartext.
    public var tls: ServerTLS?
    /// Open connections the server serves at once (`connections`); one past it is accepted only to
    /// answer its requests with ``connectionRefusal`` and be closed.
    public var maxConnections = Int.max
    /// Set by the server on a connection past ``maxConnections``: why its requests are refused.
    public var connectionRefusal: String?

    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to the peer.
    public var maxConcurrentStreams: UInt32 = 1024
    /// SETTINGS_INITIAL_WINDOW_SIZE: the per-stream receive window.
    public var initialWindowSize: UInt32 = 4 * 1024 * 1024
    /// The connection-level receive window.
    public var connectionWindowSize: Int32 = 16 * 1024 * 1024
    /// SETTINGS_MAX_FRAME_SIZE advertised to the peer.
    public var maxFrameSize: UInt32 = 64 * 1024
    /// SETTINGS_MAX_HEADER_LIST_SIZE advertised to the peer.
    public var maxHeaderListSize: UInt32 = 64 * 1024
    /// A stream's queued outbound bytes above which writers are asked to wait.
    public var outboundHighWatermark: Int = 256 * 1024
    /// Queued outbound bytes below which waiting writers resume.
    public var outboundLowWatermark: Int = 64 * 1024
    /// The most response bytes one connection may hold for a peer that has not read them; a message
    /// past it is refused (RESOURCE_EXHAUSTED) instead of queued.
    public var maxBufferedOutboundPerConnection: Int = 32 * 1024 * 1024
    /// The most response bytes all connections of a server together may hold for their peers; room is
    /// made by closing the connections holding the most (see ``OutboundMemory``).
    public var maxBufferedOutbound: Int = 256 * 1024 * 1024
    /// Streams a client may reset in a burst before it is told ENHANCE_YOUR_CALM (Rapid Reset defence).
    public var maxResetBurst: Int = 200
    /// Resets per second a client earns back, up to ``maxResetBurst``.
    public var resetsPerSecond: Int = 50
    /// A connection with no open stream for this long is closed with GOAWAY (nil: never).
    public var idleTimeout: Duration? = .seconds(300)
    /// An HTTP/1.1 connection with no request in progress (including one whose request head has not
    /// arrived whole) is closed after this long without a byte from the client (nil: never).
    public var http1IdleTimeout: Duration? = .seconds(60)

    /// Default settings.
    public init() {}
}
