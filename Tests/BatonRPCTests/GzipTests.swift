import CZlib
import NIOCore
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(1))) struct GzipTests {
    /// `bytes` compressed by zlib (the inflater takes zlib and gzip headers alike).
    private func compressed(_ bytes: [UInt8]) -> ByteBuffer {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = compress2(&out, &size, bytes, uLong(bytes.count), Z_BEST_COMPRESSION)
        precondition(status == Z_OK)
        return ByteBuffer(bytes: out[..<Int(size)])
    }

    /// `{"a":1}` as Python's gzip module writes it (mtime 0).
    private let gzipped: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0xab, 0x56, 0x4a, 0x54, 0xb2, 0x32, 0xac, 0x05,
        0x00, 0xaf, 0xac, 0x1b, 0x56, 0x07, 0x00, 0x00, 0x00,
    ]

    @Test func inflatesGzipAndZlib() throws {
        #expect(String(buffer: try Gzip.decompress(ByteBuffer(bytes: gzipped), limit: 100)) == #"{"a":1}"#)
        let text = Array(String(repeating: "baton ", count: 50_000).utf8)
        #expect(Array(try Gzip.decompress(compressed(text), limit: 1 << 20).readableBytesView) == text)
    }

    @Test func aMessageThatInflatesPastTheLimitIsRefused() {
        let bomb = compressed([UInt8](repeating: 0, count: 8 << 20))  // 8 MiB of zeros in a few KiB
        #expect(bomb.readableBytes < 64 * 1024)
        #expect { _ = try Gzip.decompress(bomb, limit: 4 << 20) } throws: { error in
            (error as? RPCError)?.code == .resourceExhausted
        }
    }

    @Test func garbageAndTruncatedInputAreInvalidArgument() {
        #expect { _ = try Gzip.decompress(ByteBuffer(string: "not gzip at all"), limit: 100) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument
        }
        #expect { _ = try Gzip.decompress(ByteBuffer(bytes: gzipped.prefix(15)), limit: 100) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument
        }
    }
}
