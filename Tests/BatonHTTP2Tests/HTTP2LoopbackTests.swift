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

@Suite(.timeLimit(.minutes(3))) struct HTTP2LoopbackTests {
    private let group = MultiThreadedEventLoopGroup.singleton

    private func request(_ connection: HTTP2ClientConnection, path: String, body: [UInt8]) async throws
        -> CollectingDelegate.Response {
        let promise = connection.eventLoop.makePromise(of: CollectingDelegate.Response.self)
        try await connection.eventLoop.submit {
            let delegate = CollectingDelegate(done: promise)
            do {
                let stream = try connection.openStream(headers: [
                    HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
                    HTTP2Header(":authority", "localhost"),
                ], delegate: delegate)
                var buffer = ByteBuffer()
                buffer.writeBytes(body)
                stream.sendData(buffer, endStream: true)
            } catch {
                // A promise is always completed: NIO treats a dropped one as a fatal error.
                promise.fail(error)
                throw error
            }
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
        // A connection that never opens a stream gets GOAWAY and is closed by the server.
        let started = ContinuousClock.now
        do {
            let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
            try await withTimeout(.seconds(30), "the idle connection was not closed") {
                try await connection.channel.closeFuture.get()
            }
        } catch let error as HTTP2Error where error.code == .connectionClosed {
            // On a loaded machine the server's idle close can beat the client's setup: also a close.
        }
        #expect(ContinuousClock.now - started >= .milliseconds(150))
        #expect(await server.waitForConnectionCount(atMost: 0, timeout: .seconds(30)))
        await server.shutdownGracefully(timeout: .seconds(5))
    }

    @Test func streamsInFlightHoldAnIdleConnectionOpen() async throws {
        var settings = HTTP2Settings()
        settings.idleTimeout = .milliseconds(200)
        let gate = ResponseGate()
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, settings: settings) { _, loop in
            GatedDelegate(gate: gate, eventLoop: loop)
        }
        // On a loaded machine the idle timer may win the race with the first stream; then the request
        // fails cleanly (its promise completes) and the test tries a new connection.
        var answered: CollectingDelegate.Response?
        for _ in 0..<20 where answered == nil {
            guard let connection = try? await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port,
                                                                            group: group) else { continue }
            connection.channel.closeFuture.whenComplete { _ in gate.stopWaiting() }
            async let response = request(connection, path: "/held", body: [7])
            guard await gate.waitForArrival(timeout: .seconds(30)) else {
                _ = try? await response
                continue
            }
            // The stream is open on the server: idle time is not counted while it lasts.
            try await Task.sleep(for: .milliseconds(600))
            #expect(connection.channel.isActive, "the server closed a connection with a stream in flight")
            gate.release()
            answered = try await response
            try await withTimeout(.seconds(30), "the connection was not closed once idle again") {
                try await connection.channel.closeFuture.get()
            }
        }
        let response = try #require(answered, "no stream opened in 20 connections")
        #expect(response.body == [7] && response.closeCode == 0)
        await server.shutdownGracefully(timeout: .seconds(5))
    }

    @Test func gracefulShutdownSendsGoAwayAndClosesIdleConnections() async throws {
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _, _ in EchoDelegate() }
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
        _ = try await request(connection, path: "/x", body: [9])
        #expect(server.connectionCount == 1)
        await server.shutdownGracefully(timeout: .seconds(5))
        try await connection.channel.closeFuture.get()
        #expect(await server.waitForConnectionCount(atMost: 0, timeout: .seconds(30)))
        // Nothing listens any more.
        await #expect(throws: HTTP2Error.self) {
            _ = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.port, group: group)
        }
    }
}

/// Server side: holds every response until the test releases the gate (streams in flight).
private final class GatedDelegate: HTTP2StreamDelegate {
    let gate: ResponseGate
    let eventLoop: any EventLoop

    init(gate: ResponseGate, eventLoop: any EventLoop) {
        self.gate = gate
        self.eventLoop = eventLoop
    }

    func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        stream.sendResponseHeaders([HTTP2Header(":status", "200")], endStream: false)
        let bound = NIOLoopBound(stream, eventLoop: eventLoop)
        let loop = eventLoop
        gate.arrived {
            loop.execute {
                bound.value.sendData(ByteBuffer(bytes: [7]))
                bound.value.sendTrailers([])
            }
        }
    }

    func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer) { stream.consume(data.count) }
    func streamDidReceiveEnd(_ stream: HTTP2Stream) {}
    func streamDidDrainOutbound(_ stream: HTTP2Stream) {}
    func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32) {}
}

/// Tells the test when a request reached the server, and lets it answer when released.
private final class ResponseGate: Sendable {
    private struct State {
        var answer: (@Sendable () -> Void)?
        var arrivalWaiter: CheckedContinuation<Bool, Never>?
        var arrived = false
    }

    private let state = NIOLockedValueBox(State())

    /// Server: a request arrived; `answer` sends its response.
    func arrived(answer: @escaping @Sendable () -> Void) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            state.answer = answer
            state.arrived = true
            defer { state.arrivalWaiter = nil }
            return state.arrivalWaiter
        }
        waiter?.resume(returning: true)
    }

    /// Test: waits for the next request to arrive (false after `timeout`).
    func waitForArrival(timeout: Duration) async -> Bool {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            stopWaiting()
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let now = state.withLockedValue { state -> Bool in
                if state.arrived { return true }
                state.arrivalWaiter = continuation
                return false
            }
            if now { continuation.resume(returning: true) }
        }
    }

    /// Test: ends a wait in progress with false (the connection closed before a request arrived).
    func stopWaiting() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            defer { state.arrivalWaiter = nil }
            return state.arrivalWaiter
        }
        waiter?.resume(returning: false)
    }

    /// Test: lets the held response go.
    func release() {
        let answer = state.withLockedValue { state -> (@Sendable () -> Void)? in
            defer { state.answer = nil; state.arrived = false }
            return state.answer
        }
        answer?()
    }
}

/// Runs `body`, failing with `message` when it takes longer than `limit` (a hang becomes a failure).
func withTimeout<T: Sendable>(_ limit: Duration, _ message: String,
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimeoutError(message: "\(message) within \(limit)")
        }
        return value
    }
}

/// A bounded wait ran out.
struct TimeoutError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
