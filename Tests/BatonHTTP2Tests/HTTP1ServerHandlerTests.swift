import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import BatonHTTP2

/// Answers every request with `200` and a body in two chunks (no content-length: chunked), recording
/// the request heads it saw.
private final class TwoChunks: HTTPExchangeDelegate {
    let seen: (String) -> Void
    init(seen: @escaping (String) -> Void) { self.seen = seen }

    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        seen("\(headers.first(named: ":method") ?? "") \(headers.first(named: ":path") ?? "")")
        exchange.sendResponseHeaders([HTTP2Header(":status", "200"), HTTP2Header("content-type", "text/plain")],
                                     endStream: false)
        exchange.sendData(ByteBuffer(string: "he"), endStream: false)
        exchange.sendData(ByteBuffer(string: "llo"), endStream: true)
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer) {}
    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange) {}
    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange) {}
    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32) {}
}

@Suite(.timeLimit(.minutes(1))) struct HTTP1ServerHandlerTests {
    private final class Log: @unchecked Sendable {
        var heads: [String] = []
    }

    private func channel(_ log: Log) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        let handler = HTTP1ServerHandler(settings: HTTP2Settings(), memory: OutboundMemory(limit: 1 << 20)) { _, _ in
            TwoChunks { log.heads.append($0) }
        }
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func keepAliveServesPipelinedRequestsInOrderWithChunkedBodies() throws {
        let log = Log()
        let channel = try channel(log)
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try written(channel)
        #expect(log.heads == ["GET /a", "GET /b?q=1"])
        #expect(text.split(separator: "HTTP/1.1 200 OK", omittingEmptySubsequences: false).count == 3)
        #expect(text.contains("transfer-encoding: chunked"))
        #expect(text.contains("2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func connectionCloseIsHonoured() throws {
        let log = Log()
        let channel = try channel(log)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        let text = try written(channel)
        #expect(text.contains("connection: close"))
        #expect(!channel.isActive)
    }

    @Test func aResponseThatEndsBeforeTheRequestBodyStillServesTheNextRequest() throws {
        let log = Log()
        let channel = try channel(log)
        // The delegate answers at once; the rest of the body is read and dropped, then the next request runs.
        try channel.writeInbound(ByteBuffer(string: "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"))
        try channel.writeInbound(ByteBuffer(string: "defghij"))
        try channel.writeInbound(ByteBuffer(string: "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try written(channel)
        #expect(log.heads == ["POST /upload", "GET /next"])
        #expect(text.split(separator: "HTTP/1.1 200 OK", omittingEmptySubsequences: false).count == 3)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aLargeUnreadBodyAfterTheResponseClosesTheConnection() throws {
        let log = Log()
        let channel = try channel(log)
        try channel.writeInbound(ByteBuffer(string: "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"))
        try channel.writeInbound(ByteBuffer(repeating: 0x61, count: HTTP1ServerHandler.maxDiscarded + 1))
        #expect(try written(channel).hasPrefix("HTTP/1.1 200 OK"))
        #expect(!channel.isActive)
    }
}
