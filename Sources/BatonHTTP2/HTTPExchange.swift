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
    /// Why every request on this connection is refused (it is past the server's connection limit); nil normally.
    var connectionRefusal: String? { get }
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
