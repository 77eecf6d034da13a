@testable import BatonHTTP2
@testable import BatonRPC
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// Every input of the committed fuzz corpora and regressions of the gRPC deframer, the gRPC-Web and
/// Connect body framing and the HTTP/1.1 request path (`fuzz/`, see `scripts/fuzz`), replayed
/// without sanitizers the way each fuzz target reads it: messages within the limit or an error,
/// never a crash.
@Suite(.timeLimit(.minutes(2))) struct FuzzCorpusTests {
    static func inputs(_ target: String) -> [[UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz")
        return ["corpus", "regressions"].flatMap { kind -> [[UInt8]] in
            let directory = root.appendingPathComponent(kind).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().compactMap { FileManager.default.contents(atPath: directory.appendingPathComponent($0).path) }
                .map { Array($0) }
        }
    }

    @Test func deframerInputs() {
        let inputs = Self.inputs("fuzz-grpc-deframer")
        #expect(inputs.count >= 4, "the committed corpus is missing")
        for bytes in inputs where !bytes.isEmpty {
            let piece = Int(bytes[0] & 0x0F) + 1
            var deframer = GRPCMessageDeframer(maxMessageSize: 4_096)
            var offset = 1
            while offset < bytes.count {
                let end = bytes[0] & 0x10 != 0 ? bytes.count : min(bytes.count, offset + piece)
                bytes[offset..<end].withUnsafeBytes { deframer.append($0) }
                offset = end
                do {
                    while let (message, _) = try deframer.nextMessage() { #expect(message.readableBytes <= 4_096) }
                } catch {
                    break
                }
            }
        }
    }

    @Test func webFramingInputs() {
        let inputs = Self.inputs("fuzz-web-framing")
        #expect(inputs.count >= 5, "the committed corpus is missing")
        let families: [WireProtocol.Family] = [.grpcWeb(text: false), .grpcWeb(text: true), .connectUnary, .connectStream]
        for bytes in inputs where !bytes.isEmpty {
            let selector = bytes[0]
            let wire = WireProtocol(family: families[Int(selector & 0x03)], codec: selector & 0x04 == 0 ? .proto : .json)
            var body = RequestBody(wire: wire, maxMessageSize: 4_096, gzip: selector & 0x08 != 0)
            let piece = Int(selector >> 4) + 1
            let rest = Array(bytes.dropFirst())
            do {
                var offset = 0
                while offset < rest.count {
                    let end = min(rest.count, offset + piece)
                    try rest[offset..<end].withUnsafeBytes { try body.append($0) }
                    offset = end
                    while let message = try body.next() { #expect(message.readableBytes <= 4_096) }
                }
                if let last = try body.end() { #expect(last.readableBytes <= 4_096) }
            } catch {
                continue
            }
        }
    }

    @Test func http1Inputs() throws {
        let inputs = Self.inputs("fuzz-http1")
        #expect(inputs.count >= 5, "the committed corpus is missing")
        var answered = 0
        for bytes in inputs where !bytes.isEmpty {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(
                HTTP1ServerHandler(settings: HTTP2Settings(), memory: OutboundMemory(limit: 1 << 20)) { _, _ in Answer() })
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            let piece = Int(bytes[0]) * 4 + 1
            var offset = 1
            var written = ""
            while offset < bytes.count, channel.isActive {
                let end = min(bytes.count, offset + piece)
                do {
                    try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
                } catch {
                    break  // a malformed request: answered 400 and closed
                }
                while let out = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: out) }
                offset = end
            }
            if written.hasPrefix("HTTP/1.1 ") { answered += 1 }
            _ = try? channel.finish(acceptAlreadyClosed: true)
        }
        #expect(answered >= 5, "the seed requests are answered")
    }

    /// Answers every request `200 ok`.
    private final class Answer: HTTPExchangeDelegate {
        func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
            if endStream { answer(exchange) }
        }
        func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer) {}
        func exchangeDidReceiveEnd(_ exchange: any HTTPExchange) { answer(exchange) }
        func exchangeDidDrainOutbound(_ exchange: any HTTPExchange) {}
        func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32) {}

        private func answer(_ exchange: any HTTPExchange) {
            exchange.sendResponseHeaders([HTTP2Header(":status", "200")], endStream: false)
            exchange.sendData(ByteBuffer(string: "ok"), endStream: true)
        }
    }
}
