import CNGHTTP2
import NIOCore

/// A NIO channel handler that runs one nghttp2 session (server or client) over a connection.
///
/// Bytes read from the socket go into nghttp2; frames nghttp2 produces are written while the channel
/// is writable (a slow reader stops production instead of growing buffers). New streams (server) are
/// handed to `streamInitializer`, which returns the delegate that serves them.
///
/// ```swift
/// let handler = HTTP2ConnectionHandler(role: .server, settings: .init()) { stream, loop in
///     MyStreamDelegate(stream: stream, eventLoop: loop)
/// }
/// try channel.pipeline.syncOperations.addHandler(handler)
/// ```
public final class HTTP2ConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Which side of the connection this handler plays.
    public enum Role: Sendable { case server, client }

    /// User events that control a connection's shutdown.
    public enum ShutdownEvent: Sendable {
        /// Send GOAWAY, let in-flight streams finish, then close.
        case graceful
        /// Close at once.
        case immediate
    }

    /// Creates the delegate for a stream the peer opened (server role).
    public typealias StreamInitializer = (HTTP2Stream, any EventLoop) -> any HTTP2StreamDelegate

    private let role: Role
    private let settings: HTTP2Settings
    private let outboundMemory: OutboundMemory
    private let streamInitializer: StreamInitializer?
    private var session: NGHTTP2Session?
    private var outboundAccount: OutboundMemory.Account?
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    private var isDraining = false
    private var finalGoAwaySent = false
    private var idleTimer: Scheduled<Void>?
    /// Called once when the connection has closed.
    public var onClose: (() -> Void)?
    /// Called when the peer sends GOAWAY (client role: no new calls on this connection).
    public var onGoAway: (() -> Void)?

    /// Creates a handler. `streamInitializer` is required for the server role. `outboundMemory` is the
    /// account shared by a server's connections (nil: one of this connection's own, at
    /// `settings.maxBufferedOutbound`).
    public init(role: Role, settings: HTTP2Settings = HTTP2Settings(), outboundMemory: OutboundMemory? = nil,
                streamInitializer: StreamInitializer? = nil) {
        self.role = role
        self.settings = settings
        self.outboundMemory = outboundMemory ?? OutboundMemory(limit: settings.maxBufferedOutbound)
        self.streamInitializer = streamInitializer
    }

    /// Whether the connection accepts new streams.
    public var isUsable: Bool { session != nil && !isDraining && context != nil }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        let account = outboundMemory.open {
            channel.pipeline.fireUserInboundEventTriggered(OutboundEviction())
        }
        outboundAccount = account
        do {
            session = try NGHTTP2Session(role: role == .server ? .server : .client, settings: settings,
                                         outboundMemory: outboundMemory, outboundAccount: account, host: self)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        flush(context: context)
        armIdleTimer()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        // Whatever removed the handler, no stream outlives it: every open stream's delegate hears
        // that it closed (a client call waiting for its status fails instead of hanging).
        closeSession()
        self.context = nil
    }

    /// Tells every open stream that the connection went away, once.
    private func closeSession() {
        session?.closeAllStreams(errorCode: UInt32(NGHTTP2_CANCEL.rawValue))
        if let outboundAccount {
            outboundMemory.close(outboundAccount)
            self.outboundAccount = nil
        }
        onClose?()
        onClose = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let session else { return }
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(HTTP2Error) in try session.receive(bytes) }
        } catch {
            flush(context: context)
            context.close(promise: nil)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
        context.fireChannelReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush(context: context) }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        closeSession()
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is OutboundEviction {
            // The server needs the unread responses this connection holds: GOAWAY ENHANCE_YOUR_CALM
            // (the peer may never read it) and close, which drops them.
            session?.terminate(errorCode: UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue))
            flush(context: context)
            context.close(promise: nil)
            return
        }
        guard let shutdown = event as? ShutdownEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch shutdown {
        case .graceful: beginGracefulShutdown(context: context)
        case .immediate: context.close(promise: nil)
        }
    }

    // MARK: - Client streams

    /// Client: opens a stream carrying `headers`. Must be called on the channel's event loop.
    public func openStream(headers: [HTTP2Header], delegate: any HTTP2StreamDelegate) throws(HTTP2Error) -> HTTP2Stream {
        guard let session, !isDraining, context != nil else {
            throw HTTP2Error(.connectionClosed, "the connection is closed or closing")
        }
        idleTimer?.cancel()
        return try session.startRequest(headers: headers, delegate: delegate)
    }

    // MARK: - Output

    private func flush(context: ChannelHandlerContext) {
        guard let session else { return }
        var wrote = false
        do {
            while context.channel.isWritable {
                var buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
                let more = try session.produceOutput(into: &buffer, limit: 256 * 1024)
                if buffer.readableBytes > 0 {
                    context.write(wrapOutboundOut(buffer), promise: nil)
                    wrote = true
                }
                if !more { break }
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if wrote { context.flush() }
        if !session.isActive || (finalGoAwaySent && session.streams.isEmpty) {
            context.close(promise: nil)
        }
    }

    // MARK: - Shutdown and idleness

    private func beginGracefulShutdown(context: ChannelHandlerContext) {
        guard !isDraining, let session else { return }
        isDraining = true
        idleTimer?.cancel()
        if role == .server {
            session.submitShutdownNotice()
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(100)) {
                loopBound.value.finishGracefulShutdown()
            }
        } else {
            session.submitGoAway()
            finalGoAwaySent = true
        }
        flush(context: context)
    }

    private func finishGracefulShutdown() {
        guard let context, let session, !finalGoAwaySent else { return }
        session.submitGoAway()
        finalGoAwaySent = true
        flush(context: context)
    }

    private func armIdleTimer() {
        idleTimer?.cancel()
        idleTimer = nil
        guard let timeout = settings.idleTimeout, let context, session?.streams.isEmpty ?? false else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
            let handler = loopBound.value
            guard let context = handler.context, handler.session?.streams.isEmpty ?? false else { return }
            handler.beginGracefulShutdown(context: context)
        }
    }
}

/// Asks a connection to close because the server needs the unread response bytes it holds.
struct OutboundEviction: Sendable {}

extension HTTP2ConnectionHandler: NGHTTP2SessionHost {
    func sessionNeedsFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            if let context = handler.context { handler.flush(context: context) }
        }
    }

    func session(_ session: NGHTTP2Session, didOpen stream: HTTP2Stream) {
        idleTimer?.cancel()
        idleTimer = nil
        guard let streamInitializer, let context else {
            stream.reset(errorCode: UInt32(NGHTTP2_REFUSED_STREAM.rawValue))
            return
        }
        if let address = context.channel.remoteAddress { stream.remoteAddressDescription = "\(address)" }
        stream.delegate = streamInitializer(stream, context.eventLoop)
    }

    func session(_ session: NGHTTP2Session, didClose stream: HTTP2Stream) {
        if settings.connectionRefusal != nil, !isDraining, let context {
            // Past the connection limit: it answered; it goes a moment later (a GOAWAY right behind the
            // answer makes some clients report the connection's end instead of the answer).
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(250)) {
                let handler = loopBound.value
                if let context = handler.context { handler.beginGracefulShutdown(context: context) }
            }
        }
        if session.streams.isEmpty, !session.isClosed {
            if isDraining {
                sessionNeedsFlush()
            } else {
                armIdleTimer()
            }
        }
    }

    func sessionDidReceiveGoAway(_ session: NGHTTP2Session, lastStreamID: Int32, errorCode: UInt32) {
        if role == .client {
            isDraining = true
            finalGoAwaySent = true
        }
        onGoAway?()
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000
    }
}
