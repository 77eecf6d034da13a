import NIOCore
import NIOHTTP1

/// Serves an HTTP/1.1 connection (after NIOHTTP1's server pipeline, which parses requests, answers
/// malformed ones with 400 and holds pipelined requests until the previous response is written): each
/// request becomes an ``HTTP1Exchange`` handed to a delegate from the same kind of initializer HTTP/2
/// streams use, so one set of handlers serves both versions. Keep-alive follows the request; when a
/// response ends before its request did, up to 64 KiB more of the body are read and dropped so the
/// connection can serve the next request; past that, or when the connection must close while the
/// request is still arriving, it closes in stages (RFC 9112 §9.6): the response is flushed, the
/// sending side is shut, what still arrives is read and dropped, and the socket closes when the
/// client closes or after ``lingerTime`` — so the client reads the answer instead of a reset.
final class HTTP1ServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let settings: HTTP2Settings
    private let memory: OutboundMemory
    private let initializer: HTTP2Server.ExchangeInitializer
    private var context: ChannelHandlerContext?
    private var account: OutboundMemory.Account?
    private var current: HTTP1Exchange?
    private var requestEnded = false
    /// Response bytes written but not yet taken by the socket.
    private(set) var pendingBytes = 0
    private var remote = "unknown"
    /// Request body bytes dropped after the response ended first.
    private var discarded = 0
    /// Most request body bytes dropped after the response ended before the connection closes instead.
    static let maxDiscarded = 64 * 1024
    /// The response end was written; the future completes once it is flushed.
    private var lastEnd: EventLoopFuture<Void>?
    /// The sending side is shut: everything that arrives is dropped until the socket closes.
    private var lingering = false
    /// How long a connection closing in stages waits for the client to close.
    static let lingerTime: TimeAmount = .seconds(2)
    /// The server is shutting down: the connection closes once the current response is complete.
    private var closing = false

    init(settings: HTTP2Settings, memory: OutboundMemory, initializer: @escaping HTTP2Server.ExchangeInitializer) {
        self.settings = settings
        self.memory = memory
        self.initializer = initializer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        account = memory.open { channel.close(promise: nil) }
        remote = channel.remoteAddress.map { "\($0)" } ?? "unknown"
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finishCurrent(errorCode: 1)
        if let account { memory.close(account) }
        account = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard current == nil, !closing, let account else { return }
            let exchange = HTTP1Exchange(connection: self, identifier: ObjectIdentifier(self), remote: remote,
                                         account: account, memory: memory, settings: settings,
                                         keepAlive: head.isKeepAlive)
            let delegate = initializer(exchange, context.eventLoop)
            exchange.delegate = delegate
            exchange.ownedDelegate = delegate
            current = exchange
            requestEnded = false
            discarded = 0
            delegate.exchange(exchange, didReceiveHeaders: Self.headers(of: head), endStream: false)
        case .body(let buffer):
            guard let exchange = current, !requestEnded else { return }
            if exchange.responseEnded {
                discarded += buffer.readableBytes
                if discarded > Self.maxDiscarded { closeInStages(context) }
                return
            }
            buffer.withUnsafeReadableBytes { exchange.delegate?.exchange(exchange, didReceiveData: $0) }
        case .end:
            guard let exchange = current, !requestEnded else { return }
            requestEnded = true
            exchange.delegate?.exchangeDidReceiveEnd(exchange)
            if exchange.responseEnded { finishCurrent(errorCode: 0) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishCurrent(errorCode: 1)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // Only a connection between requests (or stuck inside a request head) is idle: a response
            // that is streaming to a silent client (an event stream) is not.
            if current == nil { context.close(promise: nil) }
            return
        }
        guard let shutdown = event as? HTTP2ConnectionHandler.ShutdownEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        closing = true
        if shutdown == .immediate || current == nil { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finishCurrent(errorCode: 1)
        context.close(promise: nil)
    }

    // MARK: - Called by the exchange

    /// Writes and flushes one response part; `bytes` of it count as unread until the socket takes them.
    func write(_ part: HTTPServerResponsePart, bytes: Int) {
        guard let context else { return }
        if bytes > 0 {
            pendingBytes += bytes
            if let account { memory.add(bytes, to: account) }
        }
        guard bytes > 0 else {
            context.writeAndFlush(wrapOutboundOut(part), promise: nil)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        let account = self.account
        let memory = self.memory
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in
            if let account { memory.remove(bytes, from: account) }
            let handler = handler.value
            handler.pendingBytes -= bytes
            handler.current?.outboundDrained(pending: handler.pendingBytes)
        }
        context.writeAndFlush(wrapOutboundOut(part), promise: promise)
    }

    /// The exchange's response is complete: ends it on the wire, then closes the connection when the
    /// client asked for that or the request is still arriving.
    func responseEnded(_ exchange: HTTP1Exchange) {
        guard let context, exchange === current else { return }
        let close = !exchange.keepAlive || closing || settings.connectionRefusal != nil
        let channel = context.channel
        let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        lastEnd = ended
        if requestEnded {
            if close { ended.whenComplete { _ in channel.close(promise: nil) } }
            finishCurrent(errorCode: 0)
        } else if close {
            closeInStages(context)
        }
    }

    /// Closes after the response is flushed without resetting a client that is still sending: shuts
    /// the sending side, drops what arrives, and closes on the client's close or after the linger time.
    private func closeInStages(_ context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        let channel = context.channel
        let flushed = lastEnd ?? context.eventLoop.makeSucceededVoidFuture()
        flushed.whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
        }
    }

    private func finishCurrent(errorCode: UInt32) {
        guard let exchange = current else { return }
        current = nil
        exchange.close(errorCode: errorCode)
    }

    /// The request head in HTTP/2's form: pseudo-headers first, then the fields with lowercased names.
    static func headers(of head: HTTPRequestHead) -> [HTTP2Header] {
        var headers = [HTTP2Header(":method", head.method.rawValue), HTTP2Header(":scheme", "http"),
                       HTTP2Header(":path", head.uri)]
        if let host = head.headers.first(name: "host") { headers.append(HTTP2Header(":authority", host)) }
        for (name, value) in head.headers where name.lowercased() != "host" {
            headers.append(HTTP2Header(name.lowercased(), value))
        }
        return headers
    }
}
