import NIOCore
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(2))) struct RequestBodyTests {
    private func feed(_ body: inout RequestBody, _ bytes: [UInt8]) throws -> [ByteBuffer] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        try body.append(UnsafeRawBufferPointer(buffer))
        var out: [ByteBuffer] = []
        while let message = try body.next() { out.append(message) }
        return out
    }

    @Test func grpcWebTextDecodesAcrossArbitrarySplits() throws {
        // Two frames, each base64-encoded on its own (with padding), cut into 3-character pieces.
        let text = Array("AAAAAAFB".utf8) + Array("AAAAAAJCQw==".utf8)
        var body = RequestBody(wire: WireProtocol(family: .grpcWeb(text: true), codec: .proto), maxMessageSize: 100)
        var messages: [[UInt8]] = []
        var index = 0
        while index < text.count {
            let piece = Array(text[index..<min(index + 3, text.count)])
            messages += try feed(&body, piece).map { Array($0.readableBytesView) }
            index += 3
        }
        #expect(try body.end() == nil)
        #expect(messages == [[0x41], [0x42, 0x43]])
    }

    @Test func connectUnaryIsTheWholeBodyWithinTheLimit() throws {
        var body = RequestBody(wire: WireProtocol(family: .connectUnary, codec: .json), maxMessageSize: 8)
        #expect(try feed(&body, Array("{}".utf8)).isEmpty)
        #expect(try body.end().map { String(buffer: $0) } == "{}")
        var big = RequestBody(wire: WireProtocol(family: .connectUnary, codec: .json), maxMessageSize: 8)
        #expect(throws: RPCError.self) { _ = try feed(&big, Array(repeating: 0x20, count: 9)) }
    }

    @Test func anEnvelopeCutShortIsAnError() throws {
        var body = RequestBody(wire: WireProtocol(family: .connectStream, codec: .json), maxMessageSize: 100)
        #expect(try feed(&body, [0, 0, 0, 0, 5, 1]).isEmpty)
        #expect(throws: RPCError.self) { _ = try body.end() }
    }
}
