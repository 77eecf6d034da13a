import NIOCore

/// The transport side of one request and its response, whichever HTTP version carries it: an HTTP/2
/// stream, or one request of an HTTP/1.1 connection. Confined to the connection's event loop.
///
/// Headers use HTTP/2's form on both versions: the request has `:method`, `:path`, `:authority` and
/// `:scheme` pseudo-headers, and a response starts with `:status`.
public protocol HTTPExchange: AnyObject {
    /// Identifies the connection (equal for the exchanges of one connection).
    var connectionIdentifier: ObjectIdentifier { get }
    /// The remote address, for logs and the call context.
    var remoteAddressDescription: String { get }
    /// The connection's share of the server-wide budget of unread response bytes.
    var outboundAccount: OutboundMemory.Account { get }
    /// Whether queued outbound bytes passed the high watermark: a writer should wait for the drain.
    var isOutboundFull: Bool { get }
    /// Whether the response can end with trailers (HTTP/2; HTTP/1.1 ends with the last chunk).
    var supportsTrailers: Bool { get }
    /// Why `count` more response bytes may not be queued now, or nil when they may.
    func outboundRefusal(adding count: Int) -> String?
    /// Sends the response head (`:status` first). With `endStream`, the response ends here.
    func sendResponseHeaders(_ headers: [HTTP2Header], endStream: Bool)
    /// Queues response body bytes; with `endStream`, the response ends after them.
    func sendData(_ data: ByteBuffer, endStream: Bool)
    /// Ends the response with trailers (dropped where the version has none).
    func sendTrailers(_ headers: [HTTP2Header])
    /// Gives `count` received body bytes back to the peer's flow-control window.
    func consume(_ count: Int)
    /// Asks for one `exchangeDidDrainOutbound` call once queued bytes fall below the low watermark.
    func notifyWhenDrained()
}

/// Receives the events of one ``HTTPExchange``. Every method is called on the connection's event loop.
public protocol HTTPExchangeDelegate: AnyObject {
    /// The request head arrived (`endStream`: the request has no body).
    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool)
    /// A chunk of the body arrived; the bytes are valid only during the call. Call `consume` once taken.
    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer)
    /// The request body ended.
    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange)
    /// Queued outbound bytes fell below the low watermark after `notifyWhenDrained`.
    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange)
    /// The exchange is over: 0 after a complete response, else the peer reset it or the connection closed.
    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32)
}

extension HTTP2Stream: HTTPExchange {
    /// HTTP/2 carries trailers.
    public var supportsTrailers: Bool { true }
}

/// Carries an ``HTTP2Stream``'s events to an ``HTTPExchangeDelegate``, so one delegate serves both
/// HTTP versions.
public final class HTTP2ExchangeAdapter: HTTP2StreamDelegate {
    /// Where the events go.
    public let delegate: any HTTPExchangeDelegate

    /// An adapter forwarding to `delegate`.
    public init(_ delegate: any HTTPExchangeDelegate) {
        self.delegate = delegate
    }

    public func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        delegate.exchange(stream, didReceiveHeaders: headers, endStream: endStream)
    }

    public func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer) {
        delegate.exchange(stream, didReceiveData: data)
    }

    public func streamDidReceiveEnd(_ stream: HTTP2Stream) {
        delegate.exchangeDidReceiveEnd(stream)
    }

    public func streamDidDrainOutbound(_ stream: HTTP2Stream) {
        delegate.exchangeDidDrainOutbound(stream)
    }

    public func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32) {
        delegate.exchange(stream, didCloseWithErrorCode: errorCode)
    }
}
