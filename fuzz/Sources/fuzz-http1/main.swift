import FuzzDriver
@testable import BatonHTTP2
@testable import BatonRPC
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// libFuzzer entry: bytes as what a client sends on an HTTP/1.1 connection — NIOHTTP1's parser, the
/// server's HTTP/1.1 handler (keep-alive, pipelining, bodies, the staged close) and the router's pure
/// steps (CORS verdict, path and query, protocol detection, body framing) on every request. The first
/// byte chooses how the bytes are cut. Nothing may crash; every request gets an answer or the
/// connection closes.
func fuzzHTTP1(_ bytes: UnsafeRawBufferPointer) -> CInt {
    let count = bytes.count
    guard count > 0 else { return 0 }
    let piece = Int(bytes[0]) * 4 + 1
    let channel = EmbeddedChannel()
    do {
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(
            HTTP1ServerHandler(settings: HTTP2Settings(), memory: OutboundMemory(limit: 1 << 20)) { _, _ in RouterSteps() })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var offset = 1
        while offset < count, channel.isActive {
            let end = min(count, offset + piece)
            var buffer = channel.allocator.buffer(capacity: end - offset)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            try channel.writeInbound(buffer)
            while try channel.readOutbound(as: ByteBuffer.self) != nil {}
            offset = end
        }
    } catch {
        // A malformed request is answered 400 and closed: an error here is expected.
    }
    _ = try? channel.finish(acceptAlreadyClosed: true)
    return 0
}

/// What the router does with a request before any handler runs, then a small chunked answer.
private final class RouterSteps: HTTPExchangeDelegate {
    private var body: RequestBody?

    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        _ = CORSPolicy(allowedOrigins: ["https://app.example"]).verdict(headers)
        let method = headers.first(named: ":method") ?? "POST"
        let query = URLQuery(headers.first(named: ":path") ?? "")
        _ = query.path
        if case .rpc(let wire) = WireProtocol.detect(method: method, contentType: headers.first(named: "content-type")) {
            body = RequestBody(wire: wire, maxMessageSize: 4_096,
                               gzip: headers.first(named: "content-encoding") == "gzip")
        }
        if endStream { answer(exchange) }
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer) {
        do {
            try body?.append(data)
            while try body?.next() != nil {}
        } catch {
            body = nil
        }
    }

    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange) {
        _ = try? body?.end()
        answer(exchange)
    }

    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange) {}
    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32) {}

    private func answer(_ exchange: any HTTPExchange) {
        exchange.sendResponseHeaders([HTTP2Header(":status", "200"), HTTP2Header("content-type", "text/plain")],
                                     endStream: false)
        exchange.sendData(ByteBuffer(string: "ok"), endStream: true)
    }
}

runFuzzer { input in _ = fuzzHTTP1(input) }
