import BatonHTTP2
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SwiftProtobuf

/// A gRPC client over Baton's nghttp2 client session. Connects lazily and reconnects when the
/// connection is lost or the server sent GOAWAY.
///
/// ```swift
/// let client = RPCClient(host: "127.0.0.1", port: 7400, group: MultiThreadedEventLoopGroup.singleton)
/// let reply: Grpc_Health_V1_HealthCheckResponse =
///     try await client.unary("/grpc.health.v1.Health/Check", request: Grpc_Health_V1_HealthCheckRequest())
/// ```
public final class RPCClient: Sendable {
    /// The server's host.
    public let host: String
    /// The server's port.
    public let port: Int
    private let group: any EventLoopGroup
    private let maxReceiveMessageSize: Int
    private let tls: NIOSSLContext?
    /// Metadata sent with every call (e.g. `authorization`).
    private let defaultMetadata: Metadata
    /// The current connection attempt (or established connection); shared by concurrent calls.
    private let connection = NIOLockedValueBox<Task<HTTP2ClientConnection, any Error>?>(nil)

    /// Creates a client (over TLS with `tls`); no connection is made until the first call.
    public init(host: String, port: Int, group: any EventLoopGroup, maxReceiveMessageSize: Int = 4 * 1024 * 1024,
                tls: NIOSSLContext? = nil, metadata: Metadata = Metadata()) {
        self.tls = tls
        self.defaultMetadata = metadata
        self.host = host
        self.port = port
        self.group = group
        self.maxReceiveMessageSize = maxReceiveMessageSize
    }

    /// Closes the connection (calls in flight fail with UNAVAILABLE).
    public func close() async {
        let current = connection.withLockedValue { value -> Task<HTTP2ClientConnection, any Error>? in
            defer { value = nil }
            return value
        }
        if let established = try? await current?.value { await established.close() }
    }

    /// The connection to use: one attempt at a time is shared by every caller; a connection that
    /// closed or received GOAWAY is replaced (it finishes its own in-flight streams and closes itself).
    private func usableConnection() async throws -> HTTP2ClientConnection {
        for _ in 0..<3 {
            let attempt = connection.withLockedValue { value -> Task<HTTP2ClientConnection, any Error> in
                if let value { return value }
                let (host, port, group, tls) = (self.host, self.port, self.group, self.tls)
                let task = Task { try await HTTP2ClientConnection.connect(host: host, port: port, group: group, tls: tls) }
                value = task
                return task
            }
            let current: HTTP2ClientConnection
            do {
                current = try await attempt.value
            } catch {
                connection.withLockedValue { if $0 == attempt { $0 = nil } }
                throw RPCError(code: .unavailable, message: "cannot reach \(host):\(port): \(error)", cause: error)
            }
            if try await current.eventLoop.submit({ current.isUsable }).get() { return current }
            connection.withLockedValue { if $0 == attempt { $0 = nil } }
        }
        throw RPCError(code: .unavailable, message: "\(host):\(port) keeps closing new connections")
    }

    /// Starts a call of any shape. Send with `send`, end the request with `finishSending`, read
    /// `responses`, and await `result()` for the status.
    public func makeCall(_ path: String, metadata: Metadata = Metadata(), timeout: Duration? = nil) async throws -> RPCClientCall {
        var headers = [
            HTTP2Header(":method", "POST"), HTTP2Header(":scheme", tls == nil ? "http" : "https"), HTTP2Header(":path", path),
            HTTP2Header(":authority", "\(host):\(port)"), HTTP2Header("content-type", "application/grpc"),
            HTTP2Header("te", "trailers"), HTTP2Header("user-agent", "baton-swift/0.1"),
        ]
        if let timeout { headers.append(HTTP2Header("grpc-timeout", GRPCTimeout.encode(timeout))) }
        headers += metadata.headers
        headers += defaultMetadata.headers
        // A connection can start closing (idle GOAWAY, server restart) between the usability check and
        // the stream's opening: then the call goes to a fresh connection, a bounded number of times.
        var lastError: HTTP2Error?
        for _ in 0..<3 {
            let connection = try await usableConnection()
            if let call = try await openCall(on: connection, headers: headers, timeout: timeout, lastError: &lastError) {
                return call
            }
            // The next `usableConnection()` sees this one closing and replaces it.
        }
        throw RPCError(code: .unavailable, message: "\(host):\(port) closed every connection before the call "
                       + "could start: \(lastError?.message ?? "connection closed")", cause: lastError)
    }

    /// Opens the call's stream on `connection`; nil (with `lastError` set) when the connection is closing.
    /// The call's promises and response stream are always completed, also when the stream cannot open.
    private func openCall(on connection: HTTP2ClientConnection, headers: [HTTP2Header], timeout: Duration?,
                          lastError: inout HTTP2Error?) async throws -> RPCClientCall? {
        let (responses, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let maxSize = maxReceiveMessageSize
        let loop = connection.eventLoop
        let opened = try await loop.submit { () -> Result<(NIOLoopBound<ClientCall>, EventLoopFuture<Metadata>,
                                                             EventLoopFuture<ClientCallResult>), HTTP2Error> in
            let call = ClientCall(eventLoop: loop, maxReceiveMessageSize: maxSize, responses: continuation)
            do throws(HTTP2Error) {
                call.stream = try connection.openStream(headers: headers, delegate: call)
            } catch {
                call.abandon(RPCStatus(code: .unavailable, message: "the call could not start: \(error.message)"))
                return .failure(error)
            }
            if let timeout { call.armDeadline(timeout) }
            return .success((NIOLoopBound(call, eventLoop: loop), call.initialMetadata.futureResult,
                             call.finalStatus.futureResult))
        }.get()
        switch opened {
        case .success(let (call, initialMetadata, result)):
            return RPCClientCall(call: call, eventLoop: loop, responses: responses,
                                 initialMetadata: initialMetadata, result: result)
        case .failure(let error):
            guard error.code == .connectionClosed || error.code == .refusedStream else {
                throw RPCError(code: .unavailable, message: "the call could not start: \(error.message)", cause: error)
            }
            lastError = error
            return nil
        }
    }

    /// A unary call: one request, one response; throws `RPCError` when the status is not OK.
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, request: Request, metadata: Metadata = Metadata(), timeout: Duration? = nil
    ) async throws -> Response {
        try await unaryWithMetadata(path, request: request, metadata: metadata, timeout: timeout).message
    }

    /// A unary call that also returns the response's initial and trailing metadata.
    public func unaryWithMetadata<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, request: Request, metadata: Metadata = Metadata(), timeout: Duration? = nil
    ) async throws -> (message: Response, initialMetadata: Metadata, trailingMetadata: Metadata) {
        let call = try await makeCall(path, metadata: metadata, timeout: timeout)
        try await call.send(request)
        await call.finishSending()
        var response: Response?
        for try await message in call.messages(as: Response.self) where response == nil {
            response = message
        }
        let result = try await call.result()
        guard let response else {
            throw RPCError(code: .internal, message: "the server sent no response message", metadata: result.trailingMetadata)
        }
        return (response, try await call.initialMetadata(), result.trailingMetadata)
    }
}
