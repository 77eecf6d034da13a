import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A listening HTTP/2 server: one nghttp2 session per accepted connection, confined to that
/// connection's event loop. Connections that do not open with the HTTP/2 preface are served as
/// HTTP/1.1.
///
/// ```swift
/// let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { stream, loop in
///     MyStreamDelegate(stream: stream, eventLoop: loop)
/// }
/// print(server.port)
/// await server.shutdownGracefully(timeout: .seconds(10))
/// ```
public final class HTTP2Server: Sendable {
    /// Configures the pipeline of an HTTP/1.1 connection (after the server-side HTTP/1 codec).
    public typealias HTTP1Configurator = @Sendable (Channel) throws -> Void

    private let channel: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    /// The bound address.
    public var localAddress: SocketAddress? { channel.localAddress }
    /// The bound port.
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) {
        self.channel = channel
        self.connections = connections
    }

    /// Binds `host:port` (port 0: an ephemeral port) and starts accepting connections.
    public static func bind(
        host: String, port: Int, group: any EventLoopGroup, settings: HTTP2Settings = HTTP2Settings(),
        http1: HTTP1Configurator? = nil,
        streamInitializer: @escaping @Sendable (HTTP2Stream, any EventLoop) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2Server {
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 128 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let key = ObjectIdentifier(channel)
                connections.withLockedValue { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in
                    _ = connections.withLockedValue { $0.removeValue(forKey: key) }
                }
                let detector = ProtocolDetector(
                    configureHTTP2: { channel in
                        let handler = HTTP2ConnectionHandler(role: .server, settings: settings,
                                                             streamInitializer: streamInitializer)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    },
                    configureHTTP1: { channel in
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        if let http1 {
                            try http1(channel)
                        } else {
                            try channel.pipeline.syncOperations.addHandler(HTTP1FallbackHandler())
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
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
        let open = connections.withLockedValue { Array($0.values) }
        for connection in open {
            connection.pipeline.fireUserInboundEventTriggered(HTTP2ConnectionHandler.ShutdownEvent.graceful)
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !connections.withLockedValue({ $0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        closeAllConnections()
    }

    /// Closes every connection at once (the second signal of a shutdown).
    public func closeAllConnections() {
        let open = connections.withLockedValue { Array($0.values) }
        for connection in open { connection.close(promise: nil) }
    }

    /// The number of open connections.
    public var connectionCount: Int { connections.withLockedValue { $0.count } }

    /// Completes when the listening socket closes.
    public func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }
}
