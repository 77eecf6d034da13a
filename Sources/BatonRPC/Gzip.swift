import CZlib
import NIOCore

/// Decompresses gzip (and zlib) request messages, never producing more than a limit: a small
/// compressed message that inflates past it (a "zip bomb") is refused before the excess is allocated.
enum Gzip {
    /// Inflates `compressed`; RESOURCE_EXHAUSTED when the result would pass `limit` bytes,
    /// INVALID_ARGUMENT when the bytes are not gzip.
    static func decompress(_ compressed: ByteBuffer, limit: Int) throws(RPCError) -> ByteBuffer {
        var stream = z_stream()
        // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
        guard baton_inflate_init(&stream, 15 + 32) == Z_OK else {
            throw RPCError(code: .internal, message: "could not start gzip decompression")
        }
        defer { inflateEnd(&stream) }
        var input = Array(compressed.readableBytesView)
        var output = ByteBuffer()
        let chunk = 64 * 1024
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { (bytes) throws(RPCError) in
            stream.next_in = bytes.baseAddress
            stream.avail_in = UInt32(bytes.count)
            while status != Z_STREAM_END {
                if output.readableBytes >= limit && stream.avail_in > 0 {
                    throw Self.tooLarge(limit)
                }
                output.reserveCapacity(minimumWritableBytes: chunk)
                let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { buffer in
                    stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = UInt32(min(buffer.count, chunk))
                    let before = stream.avail_out
                    status = inflate(&stream, Z_NO_FLUSH)
                    return Int(before - stream.avail_out)
                }
                if output.readableBytes > limit { throw Self.tooLarge(limit) }
                switch status {
                case Z_OK, Z_STREAM_END:
                    if status == Z_OK, written == 0, stream.avail_in == 0 {
                        throw RPCError(code: .invalidArgument, message: "the gzip-compressed message is truncated")
                    }
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw RPCError(code: .invalidArgument, message: "the gzip-compressed message is truncated")
                default:
                    throw RPCError(code: .invalidArgument, message: "the message is not valid gzip (zlib status \(status))")
                }
            }
        }
        return output
    }

    private static func tooLarge(_ limit: Int) -> RPCError {
        RPCError(code: .resourceExhausted,
                 message: "the gzip-compressed message inflates past the limit of \(limit) bytes")
    }
}
