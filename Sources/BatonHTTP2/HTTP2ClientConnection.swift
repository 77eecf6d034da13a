import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

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
                               settings: HTTP2Settings = HTTP2Settings(), tls: NIOSSLContext? = nil,
                               connectTimeout: Duration = .seconds(10)) async throws -> HTTP2ClientConnection {
        var settings = settings
        settings.idleTimeout = nil
        let clientSettings = settings
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // SNI and name checks take a host name; an IP address is checked against the
                        // certificate's IP SANs instead.
                        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeWaiter())
                    }
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
        if tls != nil {
            do {
                try await channel.eventLoop.flatSubmit {
                    (try? channel.pipeline.syncOperations.handler(type: TLSHandshakeWaiter.self))?.done
                        ?? channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }.get()
            } catch {
                channel.close(promise: nil)
                throw HTTP2Error(.connectFailed, "TLS handshake with \(host):\(port) failed: \(error) (does the server's "
                                 + "certificate chain to the trusted CA, and name this host?)", cause: error)
            }
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

/// Completes `done` when the TLS handshake of its connection completed, fails it when the handshake
/// (or the connection) failed first.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var promise: EventLoopPromise<Void>?

    /// Completes with the handshake.
    var done: EventLoopFuture<Void> { promise!.futureResult }

    func handlerAdded(context: ChannelHandlerContext) {
        promise = context.eventLoop.makePromise()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { promise?.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
    }
}
