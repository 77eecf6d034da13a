import CNGHTTP2
import NIOCore

/// One HTTP/2 stream of a connection. Confined to the connection's event loop: call its methods only
/// there (wrap it in `NIOLoopBound` to carry it across tasks).
///
/// Outbound DATA is queued here and pulled by nghttp2 as the peer's flow-control window allows;
/// `bufferedOutboundBytes` tells writers when to wait (see `HTTP2StreamDelegate.streamDidDrainOutbound`).
public final class HTTP2Stream {
    /// The HTTP/2 stream identifier.
    public let id: Int32
    /// Receives this stream's events.
    public var delegate: (any HTTP2StreamDelegate)?
    /// The peer's address, for logs and call contexts.
    public internal(set) var remoteAddressDescription = "unknown"
    /// Identifies the connection the stream belongs to (equal for every stream of one connection).
    public var connectionIdentifier: ObjectIdentifier { ObjectIdentifier(session) }
    /// The connection's share of the server's unread-response memory (readable from any thread).
    public var outboundAccount: OutboundMemory.Account { session.outboundAccount }
    /// Why requests on this stream's connection are refused (past the connection limit).
    public var connectionRefusal: String? { session.settings.connectionRefusal }

    private unowned let session: NGHTTP2Session
    private var outbound = CircularBuffer<ByteBuffer>()
    /// Bytes queued for DATA frames and not yet taken by nghttp2.
    public private(set) var bufferedOutboundBytes = 0
    private var outboundEnded = false
    private var trailers: [HTTP2Header]?
    private var isDeferred = false
    private var waitingForDrain = false
    var hasDataProvider = false
    private var headersSent = false
    /// Whether the stream has closed (after which sends are ignored).
    public private(set) var isClosed = false
    /// Inbound bytes delivered but not yet consumed (their window is not yet given back).
    private var unconsumedInbound = 0

    init(id: Int32, session: NGHTTP2Session) {
        self.id = id
        self.session = session
    }

    /// Whether queued outbound bytes exceed the high watermark: a writer should wait for the drain.
    public var isOutboundFull: Bool { bufferedOutboundBytes >= session.settings.outboundHighWatermark }

    /// Why `count` more bytes may not be queued now (the limit they would pass, for the caller's
    /// error), or nil when they may: the connection's own ceiling and the server-wide one. Making room
    /// under the server-wide one may close connections that hold more unread bytes than this one.
    public func outboundRefusal(adding count: Int) -> String? {
        let connection = session.bufferedOutboundBytes
        let perConnection = session.settings.maxBufferedOutboundPerConnection
        if connection + count > perConnection {
            return "this connection holds \(connection) bytes of responses its client has not read; "
                + "\(count) more would pass the limit of \(perConnection) per connection"
        }
        let memory = session.outboundMemory
        if !memory.admit(count, for: session.outboundAccount) {
            return "the server holds \(memory.bytes) bytes of responses clients have not read; "
                + "\(count) more would pass the server-wide limit of \(memory.limit)"
        }
        return nil
    }

    // MARK: - Sending

    /// Server: sends the response headers. With `endStream`, the stream ends here (Trailers-Only).
    public func sendResponseHeaders(_ headers: [HTTP2Header], endStream: Bool) {
        guard !isClosed, !headersSent, session.role == .server else { return }
        headersSent = true
        let rc: Int32
        if endStream {
            rc = headers.withNGHTTP2Headers { nva, count in
                nghttp2_submit_response(session.raw, id, nva, count, nil)
            }
        } else {
            hasDataProvider = true
            var provider = NGHTTP2Session.dataProvider()
            rc = headers.withNGHTTP2Headers { nva, count in
                nghttp2_submit_response(session.raw, id, nva, count, &provider)
            }
        }
        if rc != 0 { reset(errorCode: UInt32(NGHTTP2_INTERNAL_ERROR.rawValue)) }
        session.requestFlush()
    }

    /// Queues `data` for DATA frames. With `endStream`, the stream's sending side ends after it.
    public func sendData(_ data: ByteBuffer, endStream: Bool = false) {
        guard !isClosed, !outboundEnded else { return }
        if data.readableBytes > 0 {
            bufferedOutboundBytes += data.readableBytes
            session.chargeOutbound(data.readableBytes)
            outbound.append(data)
        }
        if endStream { outboundEnded = true }
        resumeIfDeferred()
    }

    /// Ends the sending side with trailers (after any queued data).
    public func sendTrailers(_ headers: [HTTP2Header]) {
        guard !isClosed, !outboundEnded else { return }
        trailers = headers
        outboundEnded = true
        resumeIfDeferred()
    }

    /// Resets the stream with `errorCode` (RST_STREAM), e.g. CANCEL (8).
    public func reset(errorCode: UInt32 = UInt32(NGHTTP2_CANCEL.rawValue)) {
        guard !isClosed else { return }
        nghttp2_submit_rst_stream(session.raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, errorCode)
        session.requestFlush()
    }

    /// Gives `count` received bytes back to the peer's flow-control window.
    public func consume(_ count: Int) {
        guard count > 0, !isClosed else { return }
        unconsumedInbound -= count
        nghttp2_session_consume(session.raw, id, count)
        session.requestFlush()
    }

    private func resumeIfDeferred() {
        if isDeferred {
            isDeferred = false
            nghttp2_session_resume_data(session.raw, id)
        }
        session.requestFlush()
    }

    /// nghttp2's data provider pulls up to `capacity` bytes of queued data.
    func readOutbound(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int,
                      flags: UnsafeMutablePointer<UInt32>) -> Int {
        var written = 0
        while written < capacity, var chunk = outbound.first {
            let take = Swift.min(capacity - written, chunk.readableBytes)
            chunk.withUnsafeReadableBytes { bytes in
                (buffer + written).update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: take)
            }
            chunk.moveReaderIndex(forwardBy: take)
            written += take
            if chunk.readableBytes == 0 {
                outbound.removeFirst()
            } else {
                outbound[outbound.startIndex] = chunk
            }
        }
        bufferedOutboundBytes -= written
        session.releaseOutbound(written)
        if outbound.isEmpty && outboundEnded {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if let trailers {
                flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                let rc = trailers.withNGHTTP2Headers { nva, count in
                    nghttp2_submit_trailer(session.raw, id, nva, count)
                }
                if rc != 0 { flags.pointee &= ~NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue }
            }
        } else if written == 0 {
            isDeferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        if waitingForDrain, bufferedOutboundBytes <= session.settings.outboundLowWatermark {
            waitingForDrain = false
            delegate?.streamDidDrainOutbound(self)
        }
        return written
    }

    /// Registers that a writer waits for the queue to drain (the delegate hears of it once).
    public func notifyWhenDrained() {
        if bufferedOutboundBytes <= session.settings.outboundLowWatermark {
            delegate?.streamDidDrainOutbound(self)
        } else {
            waitingForDrain = true
        }
    }

    // MARK: - Receiving (called by the session)

    func headersReceived(_ headers: [HTTP2Header], endStream: Bool) {
        delegate?.stream(self, didReceiveHeaders: headers, endStream: endStream)
    }

    func dataReceived(_ bytes: UnsafeRawBufferPointer) {
        unconsumedInbound += bytes.count
        if let delegate {
            delegate.stream(self, didReceiveData: bytes)
        } else {
            consume(bytes.count)
        }
    }

    func endReceived() {
        delegate?.streamDidReceiveEnd(self)
    }

    func didClose(errorCode: UInt32) {
        guard !isClosed else { return }
        isClosed = true
        outbound.removeAll()
        session.releaseOutbound(bufferedOutboundBytes)
        bufferedOutboundBytes = 0
        if unconsumedInbound > 0, !session.isClosed {
            nghttp2_session_consume_connection(session.raw, unconsumedInbound)
        }
        unconsumedInbound = 0
        let delegate = self.delegate
        self.delegate = nil
        delegate?.stream(self, didCloseWithErrorCode: errorCode)
    }
}
