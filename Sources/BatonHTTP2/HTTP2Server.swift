import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A listening HTTP/2 server: one nghttp2 session per accepted connection, confined to that
/// connection's event loop. Connections that do not open with the HTTP/2 preface are served as
/// HTTP/1.1: by `http1`'s exchange delegates, or with `426 Upgrade Required` when there is none.
///
/// ```swift
/// let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { stream, loop in
///     MyStreamDelegate(stream: stream, eventLoop: loop)
/// }
/// print(server.port)
/// await server.shutdownGracefully(timeout: .seconds(10))
/// ```
public final class HTTP2Server: Sendable {
    /// Makes the delegate of one request, for HTTP/1.1 requests (and, through
    /// ``HTTP2ExchangeAdapter``, HTTP/2 streams): called on the connection's event loop.
    public typealias ExchangeInitializer = @Sendable (any HTTPExchange, any EventLoop) -> any HTTPExchangeDelegate

    private let channel: any Channel
    private let connections: ConnectionRegistry

    /// The bound address.
    public var localAddress: SocketAddress? { channel.localAddress }
    /// The bound port.
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, connections: ConnectionRegistry) {
        self.channel = channel
        self.connections = connections
    }

    /// Binds `host:port` (port 0: an ephemeral port) and starts accepting connections.
    public static func bind(
        host: String, port: Int, group: any EventLoopGroup, settings: HTTP2Settings = HTTP2Settings(),
        http1: ExchangeInitializer? = nil,
        streamInitializer: @escaping @Sendable (HTTP2Stream, any EventLoop) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2Server {
        let connections = ConnectionRegistry()
        let outboundMemory = OutboundMemory(limit: settings.maxBufferedOutbound)
        let bootstrap = ServerBootstrap(group: group)
            // A burst of connects (a thousand clients at once) waits in the kernel queue instead of being
            // dropped into SYN retries that cost each client 1-3 s.
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 128 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let open = connections.add(channel)
                var settings = settings
                if open > settings.maxConnections {
                    // Served only to say why: every request is refused, then the connection closes.
                    settings.connectionRefusal = "the server has \(open - 1) open connections; the limit is "
                        + "\(settings.maxConnections) (connections); retry later"
                }
                let detector = ProtocolDetector(
                    configureHTTP2: { channel in
                        let handler = HTTP2ConnectionHandler(role: .server, settings: settings,
                                                             outboundMemory: outboundMemory,
                                                             streamInitializer: streamInitializer)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    },
                    configureHTTP1: { channel in
                        if http1 != nil, let idle = settings.http1IdleTimeout {
                            try channel.pipeline.syncOperations.addHandler(
                                IdleStateHandler(readTimeout: .nanoseconds(Int64(idle.components.seconds) * 1_000_000_000
                                                                           + idle.components.attoseconds / 1_000_000_000)))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        if let http1 {
                            try channel.pipeline.syncOperations.addHandler(
                                HTTP1ServerHandler(settings: settings, memory: outboundMemory, initializer: http1))
                        } else {
                            try channel.pipeline.syncOperations.addHandler(HTTP1FallbackHandler())
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    // With TLS, the detector sees the decrypted bytes (ALPN offered h2 and http/1.1; the
                    // preface tells which the client chose). A cleartext client fails the handshake
                    // and is closed.
                    if let tls = settings.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.currentContext()))
                    }
                    try channel.pipeline.syncOperations.addHandler(detector)
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return HTTP2Server(channel: channel, connections: connections)
    }

    /// Stops accepting, asks every connection to finish its in-flight streams (GOAWAY), and waits up
    /// to `timeout` before closing whatever is left.
    public func shutdownGracefully(timeout: Duration) async {
        try? await channel.close()
        for connection in connections.channels {
            connection.pipeline.fireUserInboundEventTriggered(HTTP2ConnectionHandler.ShutdownEvent.graceful)
        }
        _ = await connections.waitUntilCount(atMost: 0, timeout: timeout)
        closeAllConnections()
    }

    /// Closes every connection at once (the second signal of a shutdown).
    public func closeAllConnections() {
        for connection in connections.channels { connection.close(promise: nil) }
    }

    /// The number of open connections.
    public var connectionCount: Int { connections.count }

    /// Waits until at most `count` connections are open; false when `timeout` passed first.
    public func waitForConnectionCount(atMost count: Int, timeout: Duration) async -> Bool {
        await connections.waitUntilCount(atMost: count, timeout: timeout)
    }

    /// Completes when the listening socket closes.
    public func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }
}
