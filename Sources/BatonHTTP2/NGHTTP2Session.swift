import CNGHTTP2
import NIOCore

/// What a session needs from the connection that owns it.
protocol NGHTTP2SessionHost: AnyObject {
    /// Output is pending (a stream queued data or frames outside a read): schedule a flush.
    func sessionNeedsFlush()
    /// Server role: the peer opened a new request stream.
    func session(_ session: NGHTTP2Session, didOpen stream: HTTP2Stream)
    /// A stream closed and was removed from the session.
    func session(_ session: NGHTTP2Session, didClose stream: HTTP2Stream)
    /// The peer sent GOAWAY.
    func sessionDidReceiveGoAway(_ session: NGHTTP2Session, lastStreamID: Int32, errorCode: UInt32)
}

/// An nghttp2 session (client or server role) confined to one connection's event loop.
///
/// Bytes from the socket go in with `receive(_:)`; bytes for the socket come out of
/// `produceOutput(into:limit:)`. Streams queue DATA in their own buffers, which nghttp2 pulls through a
/// data provider only as flow control allows, so a slow peer never makes memory grow without bound.
final class NGHTTP2Session {
    /// Which side of the connection this session is.
    enum Role { case server, client }

    let role: Role
    let settings: HTTP2Settings
    private(set) var raw: OpaquePointer!
    unowned let host: any NGHTTP2SessionHost
    var streams: [Int32: HTTP2Stream] = [:]
    /// Headers of the HEADERS block being received. HTTP/2 sends a header block (HEADERS plus
    /// CONTINUATION frames) without interleaving, so one buffer serves every stream.
    var pendingHeaders: [HTTP2Header] = []
    /// Set while nghttp2 is processing input; output produced then is flushed by the reader.
    var isReceiving = false
    /// The highest stream id the peer has opened (client-initiated streams are odd).
    var highestPeerStreamID: Int32 = 0
    private(set) var isClosed = false
    /// Server role: how many more streams the client may reset (Rapid Reset defence).
    var resetLimiter: ResetRateLimiter
    /// Bytes queued by this session's streams and not yet taken by nghttp2.
    private(set) var bufferedOutboundBytes = 0
    /// The server-wide account of queued outbound bytes.
    let outboundMemory: OutboundMemory
    /// This connection's share of ``outboundMemory``.
    let outboundAccount: OutboundMemory.Account

    /// Creates the session and queues the initial SETTINGS frame.
    init(role: Role, settings: HTTP2Settings, outboundMemory: OutboundMemory,
         outboundAccount: OutboundMemory.Account, host: any NGHTTP2SessionHost) throws(HTTP2Error) {
        self.role = role
        self.settings = settings
        self.host = host
        self.outboundMemory = outboundMemory
        self.outboundAccount = outboundAccount
        resetLimiter = ResetRateLimiter(burst: settings.maxResetBurst, refillPerSecond: settings.resetsPerSecond)

        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks)

        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_peer_max_concurrent_streams(option, 1024)

        var session: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        let rc: Int32
        switch role {
        case .server: rc = nghttp2_session_server_new2(&session, callbacks, userData, option)
        case .client: rc = nghttp2_session_client_new2(&session, callbacks, userData, option)
        }
        guard rc == 0, let session else {
            throw HTTP2Error(.protocolError, "nghttp2 session could not be created", nghttp2: rc)
        }
        self.raw = session

        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: settings.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue),
                                   value: settings.maxFrameSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: settings.maxHeaderListSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
        ]
        if role == .client { entries.removeFirst() }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                              settings.connectionWindowSize)
    }

    deinit {
        if let raw { nghttp2_session_del(raw) }
    }

    /// Feeds bytes read from the socket into nghttp2; callbacks fire synchronously.
    func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2Error) {
        guard !isClosed, bytes.count > 0 else { return }
        isReceiving = true
        defer { isReceiving = false }
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc = nghttp2_session_mem_recv(raw, base, bytes.count)
        if rc < 0 {
            throw HTTP2Error(.protocolError, "HTTP/2 protocol error from peer", nghttp2: Int32(rc))
        }
    }

    /// Appends pending frames to `buffer` until nothing is pending or `limit` bytes were added.
    /// Returns true when more output remains.
    func produceOutput(into buffer: inout ByteBuffer, limit: Int) throws(HTTP2Error) -> Bool {
        var produced = 0
        while produced < limit {
            var pointer: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(raw, &pointer)
            if count < 0 {
                throw HTTP2Error(.protocolError, "nghttp2 failed to serialize frames", nghttp2: Int32(count))
            }
            if count == 0 { return false }
            buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
            produced += count
        }
        return nghttp2_session_want_write(raw) != 0
    }

    /// Whether nghttp2 still wants to read or write; false once both sides are done (after GOAWAY).
    var isActive: Bool {
        nghttp2_session_want_read(raw) != 0 || nghttp2_session_want_write(raw) != 0
    }

    /// Asks for output to be flushed: immediately by the reader if inside a receive, else scheduled.
    func requestFlush() {
        if !isReceiving { host.sessionNeedsFlush() }
    }

    // MARK: - Outbound memory

    /// Counts `count` bytes a stream queued (on this connection and server-wide).
    func chargeOutbound(_ count: Int) {
        bufferedOutboundBytes += count
        outboundMemory.add(count, to: outboundAccount)
    }

    /// Gives back `count` bytes nghttp2 took or a closing stream dropped.
    func releaseOutbound(_ count: Int) {
        guard count > 0 else { return }
        bufferedOutboundBytes -= count
        outboundMemory.remove(count, from: outboundAccount)
    }

    // MARK: - Connection-level frames

    /// Server: sends the first GOAWAY of a graceful shutdown (no new streams after the in-flight ones).
    func submitShutdownNotice() {
        nghttp2_submit_shutdown_notice(raw)
        requestFlush()
    }

    /// Sends GOAWAY naming the last stream this side processed.
    func submitGoAway(errorCode: UInt32 = 0) {
        let last = nghttp2_session_get_last_proc_stream_id(raw)
        nghttp2_submit_goaway(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode, nil, 0)
        requestFlush()
    }

    /// Ends the session at once with GOAWAY `errorCode` (no stream is processed further).
    func terminate(errorCode: UInt32) {
        nghttp2_session_terminate_session(raw, errorCode)
        requestFlush()
    }

    /// Sends a PING.
    func submitPing() {
        nghttp2_submit_ping(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
        requestFlush()
    }

    /// Marks the session closed: every open stream is told it closed with `errorCode`.
    func closeAllStreams(errorCode: UInt32) {
        isClosed = true
        let open = streams.values
        streams.removeAll()
        for stream in open {
            stream.didClose(errorCode: errorCode)
            host.session(self, didClose: stream)
        }
    }

    // MARK: - Client streams

    /// Client: opens a request stream with `headers`; DATA follows through the stream.
    func startRequest(headers: [HTTP2Header], delegate: any HTTP2StreamDelegate) throws(HTTP2Error) -> HTTP2Stream {
        guard !isClosed else { throw HTTP2Error(.connectionClosed, "the connection is closed") }
        var provider = Self.dataProvider()
        let id = headers.withNGHTTP2Headers { nva, count in
            nghttp2_submit_request(raw, nil, nva, count, &provider, nil)
        }
        guard id > 0 else {
            throw HTTP2Error(.refusedStream, "the request could not be started", nghttp2: id)
        }
        let stream = HTTP2Stream(id: id, session: self)
        stream.delegate = delegate
        stream.hasDataProvider = true
        streams[id] = stream
        requestFlush()
        return stream
    }
}
