import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import BatonHTTP2

/// Server side: answers every request with 200 and echoes its body, then trailers.
private final class EchoDelegate: HTTP2StreamDelegate {
    var body = ByteBuffer()

    func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        stream.sendResponseHeaders([HTTP2Header(":status", "200"),
                                    HTTP2Header("x-path", headers.first(named: ":path") ?? "")], endStream: false)
        if endStream { streamDidReceiveEnd(stream) }
    }

    func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer) {
        body.writeBytes(data)
        stream.consume(data.count)
    }

    func streamDidReceiveEnd(_ stream: HTTP2Stream) {
        stream.sendData(body)
        stream.sendTrailers([HTTP2Header("x-length", String(body.readableBytes))])
    }

    func streamDidDrainOutbound(_ stream: HTTP2Stream) {}
    func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32) {}
}

/// Client side: collects the response and completes a promise at the close.
private final class CollectingDelegate: HTTP2StreamDelegate {
    struct Response: Sendable {
        var headers: [[HTTP2Header]] = []
        var body: [UInt8] = []
        var closeCode: UInt32 = 0
    }

    var response = Response()
    let done: EventLoopPromise<Response>

    init(done: EventLoopPromise<Response>) { self.done = done }

    func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        response.headers.append(headers)
    }

    func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer) {
        response.body += data
        stream.consume(data.count)
    }

    func streamDidReceiveEnd(_ stream: HTTP2Stream) {}
    func streamDidDrainOutbound(_ stream: HTTP2Stream) {}

    func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32) {
        response.closeCode = errorCode
        done.succeed(response)
    }
}

@Suite struct HTTP2LoopbackTests {
    private let group = MultiThreadedEventLoopGroup.singleton

    private func request(_ connection: HTTP2ClientConnection, path: String, body: [UInt8]) async throws
        -> CollectingDelegate.Response {
        let promise = connection.eventLoop.makePromise(of: CollectingDelegate.Response.self)
        try await connection.eventLoop.submit {
            let delegate = CollectingDelegate(done: promise)
            let stream = try connection.openStream(headers: [
                HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
                HTTP2Header(":authority", "localhost"),
            ], delegate: delegate)
            var buffer = ByteBuffer()
            buffer.writeBytes(body)
            stream.sendData(buffer, endStream: true)
        }.get()
        return try await promise.futureResult.get()
    }

    @Test func requestsRoundTripWithBodiesAndTrailers() async throws {
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _, _ in EchoDelegate() }
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
        // A body larger than the default 64 KiB window and several frames: flow control must refill it.
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        async let first = request(connection, path: "/a", body: body)
        async let second = request(connection, path: "/b", body: [1, 2, 3])
        let (a, b) = try await (first, second)
        #expect(a.body == body)
        #expect(a.headers.first?.first(named: "x-path") == "/a")
        #expect(a.headers.last?.first(named: "x-length") == "300000")
        #expect(b.body == [1, 2, 3])
        #expect(a.closeCode == 0 && b.closeCode == 0)
        await connection.close()
        await server.shutdownGracefully(timeout: .seconds(1))
    }

    @Test func idleConnectionsAreClosed() async throws {
        var settings = HTTP2Settings()
        settings.idleTimeout = .milliseconds(200)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, settings: settings) { _, _ in
            EchoDelegate()
        }
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
        _ = try await request(connection, path: "/x", body: [9])
        // The server sends GOAWAY and closes after 200 ms without streams.
        try await connection.channel.closeFuture.get()
        #expect(await eventually { server.connectionCount == 0 })
        await server.shutdownGracefully(timeout: .seconds(1))
    }

    @Test func gracefulShutdownSendsGoAwayAndClosesIdleConnections() async throws {
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _, _ in EchoDelegate() }
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
        _ = try await request(connection, path: "/x", body: [9])
        #expect(server.connectionCount == 1)
        await server.shutdownGracefully(timeout: .seconds(5))
        try await connection.channel.closeFuture.get()
        #expect(await eventually { server.connectionCount == 0 })
        // Nothing listens any more.
        await #expect(throws: HTTP2Error.self) {
            _ = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
        }
    }
}

/// Polls `condition` for up to two seconds (the server notices a close on its own event loop).
private func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<200 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
