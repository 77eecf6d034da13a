import NIOCore
import NIOPosix

/// A client HTTP/2 connection (prior knowledge, cleartext) running an nghttp2 client session.
///
/// ```swift
/// let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: 7400, group: group)
/// try await connection.eventLoop.submit {
///     try connection.openStream(headers: requestHeaders, delegate: myDelegate)
/// }.get()
/// ```
public final class HTTP2ClientConnection: Sendable {
    /// The connection's channel.
    public let channel: any Channel
    private let handler: NIOLoopBound<HTTP2ConnectionHandler>

    /// The event loop every stream of this connection runs on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    private init(channel: any Channel, handler: NIOLoopBound<HTTP2ConnectionHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects to `host:port` and starts the HTTP/2 session (sends the preface and SETTINGS).
    public static func connect(host: String, port: Int, group: any EventLoopGroup,
                               settings: HTTP2Settings = HTTP2Settings(),
                               connectTimeout: Duration = .seconds(10)) async throws -> HTTP2ClientConnection {
        var settings = settings
        settings.idleTimeout = nil
        let clientSettings = settings
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HTTP2ConnectionHandler(role: .client, settings: clientSettings))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw HTTP2Error(.connectFailed, "cannot connect to \(host):\(port): \(error)", cause: error)
        }
        let handler: NIOLoopBound<HTTP2ConnectionHandler>
        do {
            handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: HTTP2ConnectionHandler.self),
                             eventLoop: channel.eventLoop)
            }.get()
        } catch {
            // The peer closed the connection before it could be used (the pipeline is gone).
            throw HTTP2Error(.connectionClosed, "\(host):\(port) closed the connection at once", cause: error)
        }
        return HTTP2ClientConnection(channel: channel, handler: handler)
    }

    /// Opens a request stream. Call on `eventLoop`.
    public func openStream(headers: [HTTP2Header], delegate: any HTTP2StreamDelegate) throws(HTTP2Error) -> HTTP2Stream {
        try handler.value.openStream(headers: headers, delegate: delegate)
    }

    /// Whether new streams can be opened (not closed, no GOAWAY received). Call on `eventLoop`.
    public var isUsable: Bool { channel.isActive && handler.value.isUsable }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}
