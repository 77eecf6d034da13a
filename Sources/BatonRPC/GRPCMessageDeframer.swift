import NIOCore

/// Splits a stream of DATA bytes into gRPC messages (1-byte compressed flag, 4-byte big-endian
/// length, payload). Messages may be split across or coalesced within DATA frames.
///
/// A state machine: `append(_:)` bytes in, `next()` whole messages out.
public struct GRPCMessageDeframer: Sendable {
    /// The largest payload accepted; a bigger length prefix is `RESOURCE_EXHAUSTED`.
    public let maxMessageSize: Int
    private var buffer: ByteBuffer

    /// Creates a deframer.
    public init(maxMessageSize: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxMessageSize = maxMessageSize
        self.buffer = allocator.buffer(capacity: 0)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.writeBytes(bytes)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// Whether bytes of an incomplete message are buffered (an error if the stream ends now).
    public var hasPartialMessage: Bool { buffer.readableBytes > 0 }

    /// The next whole message, nil when more bytes are needed; a compressed one is an error.
    public mutating func next() throws(RPCError) -> ByteBuffer? {
        guard let (message, compressed) = try nextMessage() else { return nil }
        if compressed {
            throw RPCError(code: .internal,
                           message: "received a compressed message, but the request declared no compression "
                               + "(grpc-encoding, connect-content-encoding)")
        }
        return message
    }

    /// The next whole message and whether its compressed flag is set, nil when more bytes are needed.
    public mutating func nextMessage() throws(RPCError) -> (ByteBuffer, compressed: Bool)? {
        guard buffer.readableBytes >= 5,
              let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        if flag > 1 {
            throw RPCError(code: .internal, message: "invalid message flag \(flag) (expected 0 or 1)")
        }
        if Int(length) > maxMessageSize {
            throw RPCError(code: .resourceExhausted,
                           message: "message of \(length) bytes exceeds the limit of \(maxMessageSize) bytes")
        }
        guard buffer.readableBytes >= 5 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readSlice(length: Int(length))!
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 64 * 1024 {
            buffer.discardReadBytes()
        }
        return (message, flag == 1)
    }
}
