import BatonHTTP2
import NIOCore

/// An exchange whose response head carries extra header fields (the CORS headers of an allowed
/// cross-origin request); everything else passes through.
final class DecoratedExchange: HTTPExchange {
    private let base: any HTTPExchange
    private let extra: [HTTP2Header]

    init(_ base: any HTTPExchange, adding extra: [HTTP2Header]) {
        self.base = base
        self.extra = extra
    }

    var connectionIdentifier: ObjectIdentifier { base.connectionIdentifier }
    var connectionRefusal: String? { base.connectionRefusal }
    var remoteAddressDescription: String { base.remoteAddressDescription }
    var outboundAccount: OutboundMemory.Account { base.outboundAccount }
    var isOutboundFull: Bool { base.isOutboundFull }
    var supportsTrailers: Bool { base.supportsTrailers }
    func outboundRefusal(adding count: Int) -> String? { base.outboundRefusal(adding: count) }
    func sendResponseHeaders(_ headers: [HTTP2Header], endStream: Bool) {
        base.sendResponseHeaders(headers + extra, endStream: endStream)
    }
    func sendData(_ data: ByteBuffer, endStream: Bool) { base.sendData(data, endStream: endStream) }
    func sendTrailers(_ headers: [HTTP2Header]) { base.sendTrailers(headers) }
    func consume(_ count: Int) { base.consume(count) }
    func notifyWhenDrained() { base.notifyWhenDrained() }
}
