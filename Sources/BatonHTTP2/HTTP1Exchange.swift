import NIOCore
import NIOHTTP1

/// One request of an HTTP/1.1 connection and its response, as an ``HTTPExchange``: the response head
/// becomes an `HTTPResponseHead` (chunked unless it has a `content-length`), body bytes are written
/// and flushed as they come, and the bytes written but not yet taken by the socket count as unread
/// (per connection and against the server-wide budget), exactly like an HTTP/2 stream's queue.
final class HTTP1Exchange: HTTPExchange {
    private weak var connection: HTTP1ServerHandler?
    let connectionIdentifier: ObjectIdentifier
    /// Why requests on this connection are refused (past the connection limit).
    var connectionRefusal: String? { settings.connectionRefusal }
    let remoteAddressDescription: String
    let outboundAccount: OutboundMemory.Account
    private let settings: HTTP2Settings
    private let memory: OutboundMemory
    /// Whether the client asked to keep the connection open after this response.
    let keepAlive: Bool
    private(set) var headSent = false
    private(set) var responseEnded = false
    private(set) var isClosed = false
    private var waitingForDrain = false
    weak var delegate: (any HTTPExchangeDelegate)?
    /// Strong while the exchange is open (the handler holds the exchange, the exchange its delegate).
    var ownedDelegate: (any HTTPExchangeDelegate)?

    init(connection: HTTP1ServerHandler, identifier: ObjectIdentifier, remote: String,
         account: OutboundMemory.Account, memory: OutboundMemory, settings: HTTP2Settings, keepAlive: Bool) {
        self.connection = connection
        self.connectionIdentifier = identifier
        self.remoteAddressDescription = remote
        self.outboundAccount = account
        self.memory = memory
        self.settings = settings
        self.keepAlive = keepAlive
    }

    var supportsTrailers: Bool { false }

    var isOutboundFull: Bool { (connection?.pendingBytes ?? 0) >= settings.outboundHighWatermark }

    func outboundRefusal(adding count: Int) -> String? {
        let pending = connection?.pendingBytes ?? 0
        let perConnection = settings.maxBufferedOutboundPerConnection
        if pending + count > perConnection {
            return "this connection holds \(pending) bytes of responses its client has not read; "
                + "\(count) more would pass the limit of \(perConnection) per connection"
        }
        if !memory.admit(count, for: outboundAccount) {
            return "the server holds \(memory.bytes) bytes of responses clients have not read; "
                + "\(count) more would pass the server-wide limit of \(memory.limit)"
        }
        return nil
    }

    func sendResponseHeaders(_ headers: [HTTP2Header], endStream: Bool) {
        guard !isClosed, !headSent, let connection else { return }
        headSent = true
        var status = 200
        var fields = HTTPHeaders()
        for header in headers {
            if header.name == ":status" {
                status = Int(header.value) ?? 500
            } else if !header.name.hasPrefix(":") {
                fields.add(name: header.name, value: header.value)
            }
        }
        if !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        // A response without a body says so, except where the status itself means "no body" (RFC 9110 §8.6).
        if endStream, status != 204, status != 304, status >= 200, !fields.contains(name: "content-length") {
            fields.add(name: "content-length", value: "0")
        }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status),
                                    headers: fields)
        connection.write(.head(head), bytes: 0)
        if endStream { end() }
    }

    func sendData(_ data: ByteBuffer, endStream: Bool) {
        guard !isClosed, headSent, !responseEnded, let connection else { return }
        if data.readableBytes > 0 {
            connection.write(.body(.byteBuffer(data)), bytes: data.readableBytes)
        }
        if endStream { end() }
    }

    func sendTrailers(_ headers: [HTTP2Header]) {
        guard !isClosed, headSent, !responseEnded else { return }
        end()
    }

    func consume(_ count: Int) {
        // HTTP/1.1 has no window: the handler reads one request at a time and bounds what it buffers.
    }

    func notifyWhenDrained() {
        if (connection?.pendingBytes ?? 0) <= settings.outboundLowWatermark {
            delegate?.exchangeDidDrainOutbound(self)
        } else {
            waitingForDrain = true
        }
    }

    // MARK: - Called by the connection

    /// Written bytes reached the socket; wakes a writer waiting for the drain.
    func outboundDrained(pending: Int) {
        guard waitingForDrain, pending <= settings.outboundLowWatermark else { return }
        waitingForDrain = false
        delegate?.exchangeDidDrainOutbound(self)
    }

    /// The exchange ends (0: the response was complete), telling the delegate once.
    func close(errorCode: UInt32) {
        guard !isClosed else { return }
        isClosed = true
        let delegate = self.delegate
        self.delegate = nil
        ownedDelegate = nil
        delegate?.exchange(self, didCloseWithErrorCode: errorCode)
    }

    private func end() {
        responseEnded = true
        connection?.responseEnded(self)
    }
}
