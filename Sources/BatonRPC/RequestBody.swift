import NIOCore

/// Turns a request body into messages the way the call's protocol frames them: 5-byte envelopes
/// (gRPC, gRPC-Web, Connect streaming; base64 first for gRPC-Web text), or the whole body as one
/// message (Connect unary), never holding more than the message size limit; gzip-compressed messages
/// (when the request declared gzip) are inflated within the same limit.
struct RequestBody {
    private var deframer: GRPCMessageDeframer
    private let wire: WireProtocol
    private let maxMessageSize: Int
    /// Connect unary: the body so far.
    private var whole = ByteBuffer()
    /// gRPC-Web text: base64 characters not yet decoded (fewer than 4).
    private var pendingText: [UInt8] = []
    /// The request declared gzip: compressed envelopes (or the Connect unary body) are inflated.
    private let gzip: Bool

    init(wire: WireProtocol, maxMessageSize: Int, gzip: Bool = false) {
        self.wire = wire
        self.maxMessageSize = maxMessageSize
        self.gzip = gzip
        self.deframer = GRPCMessageDeframer(maxMessageSize: maxMessageSize)
    }

    /// Takes received body bytes.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(RPCError) {
        switch wire.family {
        case .connectUnary:
            guard whole.readableBytes + bytes.count <= maxMessageSize else {
                throw RPCError(code: .resourceExhausted,
                               message: "the request body passes the limit of \(maxMessageSize) bytes")
            }
            whole.writeBytes(bytes)
        case .grpcWeb(text: true):
            pendingText.append(contentsOf: bytes.lazy.filter { !Self.isWhitespace($0) })
            let usable = pendingText.count - pendingText.count % 4
            guard usable > 0 else { return }
            guard let decoded = Base64.decode(String(decoding: pendingText[..<usable], as: UTF8.self)) else {
                throw RPCError(code: .invalidArgument, message: "the grpc-web-text body is not valid base64")
            }
            pendingText.removeFirst(usable)
            decoded.withUnsafeBytes { deframer.append($0) }
        case .grpc, .grpcWeb(text: false), .connectStream:
            deframer.append(bytes)
        }
    }

    /// The next whole enveloped message, nil when more bytes are needed (always nil for Connect unary).
    mutating func next() throws(RPCError) -> ByteBuffer? {
        guard wire.isEnveloped else { return nil }
        guard gzip else { return try deframer.next() }
        guard let (message, compressed) = try deframer.nextMessage() else { return nil }
        return compressed ? try Gzip.decompress(message, limit: maxMessageSize) : message
    }

    /// The body ended: the Connect unary message, or nil; throws when an envelope was cut short.
    mutating func end() throws(RPCError) -> ByteBuffer? {
        if !wire.isEnveloped {
            defer { whole = ByteBuffer() }
            return gzip && whole.readableBytes > 0 ? try Gzip.decompress(whole, limit: maxMessageSize) : whole
        }
        if deframer.hasPartialMessage || !pendingText.isEmpty {
            throw RPCError(code: .internal, message: "the request ended inside a message")
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}
