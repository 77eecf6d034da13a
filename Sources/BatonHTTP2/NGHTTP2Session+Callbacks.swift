import CNGHTTP2

extension NGHTTP2Session {
    /// The session behind nghttp2's `user_data` pointer.
    @inline(__always)
    static func from(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
        Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    }

    /// Registers the C callbacks that route nghttp2's events to the session's streams.
    static func installCallbacks(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            let session = NGHTTP2Session.from(userData)
            return session.beginHeaders(frame!.pointee)
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            let session = NGHTTP2Session.from(userData)
            let header = HTTP2Header(
                String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
            )
            session.pendingHeaders.append(header)
            return 0
        }
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { _, header, userData in
            guard let header else { return 0 }
            return NGHTTP2Session.from(userData).beginFrame(header.pointee)
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            NGHTTP2Session.from(userData).frameReceived(frame!.pointee)
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _, _, streamID, data, length, userData in
            let session = NGHTTP2Session.from(userData)
            guard let stream = session.streams[streamID] else {
                // Data for a stream we no longer track: give the window back so the connection flows.
                nghttp2_session_consume_connection(session.raw, length)
                return 0
            }
            stream.dataReceived(UnsafeRawBufferPointer(start: data, count: length))
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let session = NGHTTP2Session.from(userData)
            if let stream = session.streams.removeValue(forKey: streamID) {
                stream.didClose(errorCode: errorCode)
                session.host.session(session, didClose: stream)
            }
            return 0
        }
    }

    /// The data provider every stream with a body uses; nghttp2 pulls the stream's queued bytes.
    static func dataProvider() -> nghttp2_data_provider {
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, buffer, length, flags, _, userData in
            let session = NGHTTP2Session.from(userData)
            guard let stream = session.streams[streamID] else {
                return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
            }
            return stream.readOutbound(into: buffer!, capacity: length, flags: flags!)
        }
        return provider
    }

    /// RFC 9113 §5.1.1: a client's new stream must have a higher id than every stream it opened
    /// before. nghttp2 1.52 silently drops HEADERS on a lower, unknown id; Baton ends the connection
    /// with PROTOCOL_ERROR instead, as the RFC requires.
    private func beginFrame(_ header: nghttp2_frame_hd) -> Int32 {
        guard role == .server, UInt32(header.type) == NGHTTP2_HEADERS.rawValue, header.stream_id % 2 == 1 else { return 0 }
        if header.stream_id > highestPeerStreamID {
            highestPeerStreamID = header.stream_id
        } else if nghttp2_session_find_stream(raw, header.stream_id) == nil {
            nghttp2_session_terminate_session(raw, NGHTTP2_PROTOCOL_ERROR.rawValue)
        }
        return 0
    }

    private func beginHeaders(_ frame: nghttp2_frame) -> Int32 {
        let streamID = frame.hd.stream_id
        pendingHeaders = []
        if role == .server, frame.headers.cat == NGHTTP2_HCAT_REQUEST, streams[streamID] == nil {
            streams[streamID] = HTTP2Stream(id: streamID, session: self)
        }
        return 0
    }

    private func frameReceived(_ frame: nghttp2_frame) -> Int32 {
        let streamID = frame.hd.stream_id
        let endStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(frame.hd.type) {
        case NGHTTP2_HEADERS.rawValue:
            var headers: [HTTP2Header] = []
            swap(&headers, &pendingHeaders)
            guard let stream = streams[streamID] else { return 0 }
            if role == .server, frame.headers.cat == NGHTTP2_HCAT_REQUEST {
                host.session(self, didOpen: stream)
            }
            stream.headersReceived(headers, endStream: endStream)
        case NGHTTP2_DATA.rawValue:
            if endStream, let stream = streams[streamID] {
                stream.endReceived()
            }
        case NGHTTP2_GOAWAY.rawValue:
            host.sessionDidReceiveGoAway(self, lastStreamID: frame.goaway.last_stream_id,
                                         errorCode: frame.goaway.error_code)
        case NGHTTP2_RST_STREAM.rawValue where role == .server:
            // Rapid Reset: a client that resets streams faster than it earns them back is cut off.
            if !resetLimiter.admit(now: .now()) {
                nghttp2_session_terminate_session(raw, NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
            }
        default:
            break
        }
        return 0
    }
}

extension Array where Element == HTTP2Header {
    /// Calls `body` with these headers as an `nghttp2_nv` array (valid only during the call).
    func withNGHTTP2Headers<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        var total = 0
        for header in self { total += header.name.utf8.count + header.value.utf8.count }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(total, 1))
        defer { storage.deallocate() }
        var nva = [nghttp2_nv]()
        nva.reserveCapacity(count)
        var offset = 0
        for header in self {
            let name = storage + offset
            offset += Self.copy(header.name, to: name)
            let value = storage + offset
            offset += Self.copy(header.value, to: value)
            nva.append(nghttp2_nv(name: name, value: value, namelen: header.name.utf8.count,
                                  valuelen: header.value.utf8.count,
                                  flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
        }
        return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }

    private static func copy(_ string: String, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        var string = string
        return string.withUTF8 { utf8 in
            if let base = utf8.baseAddress { destination.update(from: base, count: utf8.count) }
            return utf8.count
        }
    }
}
