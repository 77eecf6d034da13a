import BatonHTTP2
import NIOCore

/// The client side of one gRPC call, confined to the connection's event loop: sends framed
/// messages, deframes responses, and resolves the initial metadata and the final status.
final class ClientCall: HTTP2StreamDelegate {
    private let eventLoop: any EventLoop
    var stream: HTTP2Stream?
    private var deframer: GRPCMessageDeframer
    private let responses: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    let initialMetadata: EventLoopPromise<Metadata>
    let finalStatus: EventLoopPromise<ClientCallResult>
    private var receivedHeaders = false
    private var initialMetadataResolved = false
    private var finished = false
    private var finalStatusValue: RPCStatus?
    private var deadlineTimer: Scheduled<Void>?
    private var drainWaiters: [CheckedContinuation<Void, any Error>] = []

    init(eventLoop: any EventLoop, maxReceiveMessageSize: Int,
         responses: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
        self.eventLoop = eventLoop
        self.deframer = GRPCMessageDeframer(maxMessageSize: maxReceiveMessageSize)
        self.responses = responses
        self.initialMetadata = eventLoop.makePromise()
        self.finalStatus = eventLoop.makePromise()
    }

    /// Arms the client-side deadline: past it the stream is reset and the call ends DEADLINE_EXCEEDED.
    func armDeadline(_ timeout: Duration) {
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        deadlineTimer = eventLoop.scheduleTask(in: .nanoseconds(timeout.nanosecondsClamped)) {
            let call = loopBound.value
            call.stream?.reset()
            call.complete(RPCStatus(code: .deadlineExceeded, message: "the deadline was exceeded"), Metadata())
        }
    }

    // MARK: - Sending

    func send(_ framed: ByteBuffer, continuation: CheckedContinuation<Void, any Error>) {
        guard !finished, let stream, !stream.isClosed else {
            // The call already ended: a write after an OK status is moot, otherwise the status says why.
            if let status = finalStatusValue, status.code != .ok {
                continuation.resume(throwing: RPCError(code: status.code, message: status.message))
            } else if finalStatusValue == nil {
                continuation.resume(throwing: RPCError(code: .cancelled, message: "the call is over"))
            } else {
                continuation.resume()
            }
            return
        }
        stream.sendData(framed)
        if stream.isOutboundFull {
            drainWaiters.append(continuation)
            stream.notifyWhenDrained()
        } else {
            continuation.resume()
        }
    }

    func finishSending() {
        stream?.sendData(ByteBuffer(), endStream: true)
    }

    /// Ends a call whose stream never opened: every promise and the response stream complete with `status`.
    func abandon(_ status: RPCStatus) {
        complete(status, Metadata())
    }

    func cancel() {
        guard !finished else { return }
        stream?.reset()
        complete(RPCStatus(code: .cancelled, message: "the call was cancelled by the client"), Metadata())
    }

    // MARK: - HTTP2StreamDelegate

    func stream(_ stream: HTTP2Stream, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        if !receivedHeaders {
            receivedHeaders = true
            let status = headers.first(named: ":status") ?? ""
            guard status == "200" else {
                complete(RPCStatus(code: Self.code(forHTTPStatus: status),
                                   message: "the server answered HTTP \(status) instead of gRPC"), Metadata())
                return
            }
            let contentType = headers.first(named: "content-type") ?? ""
            guard contentType.hasPrefix("application/grpc") else {
                complete(RPCStatus(code: .unknown, message: "the server answered content-type '\(contentType)'"),
                         Metadata())
                return
            }
            resolveInitialMetadata(Metadata(headers: headers))
            if !endStream { return }
        }
        // Trailers (or Trailers-Only).
        let code = headers.first(named: "grpc-status").flatMap(Int.init)
        let message = headers.first(named: "grpc-message").map(PercentEncoding.decode) ?? ""
        if let code {
            complete(RPCStatus(code: RPCStatusCode(rawValue: code), message: message), Metadata(headers: headers))
        } else {
            complete(RPCStatus(code: .unknown, message: "the server sent no grpc-status"), Metadata(headers: headers))
        }
    }

    func stream(_ stream: HTTP2Stream, didReceiveData data: UnsafeRawBufferPointer) {
        stream.consume(data.count)
        guard !finished else { return }
        deframer.append(data)
        do {
            while let message = try deframer.next() { responses.yield(message) }
        } catch {
            stream.reset()
            complete(RPCStatus(code: error.code, message: error.message), Metadata())
        }
    }

    func streamDidReceiveEnd(_ stream: HTTP2Stream) {
        complete(RPCStatus(code: .internal, message: "the server ended the stream without trailers"), Metadata())
    }

    func streamDidDrainOutbound(_ stream: HTTP2Stream) {
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    func stream(_ stream: HTTP2Stream, didCloseWithErrorCode errorCode: UInt32) {
        let code: RPCStatusCode = errorCode == 8 ? .cancelled : .unavailable
        complete(RPCStatus(code: code, message: "the stream closed before a status arrived (HTTP/2 error \(errorCode))"),
                 Metadata())
    }

    private func resolveInitialMetadata(_ metadata: Metadata) {
        guard !initialMetadataResolved else { return }
        initialMetadataResolved = true
        initialMetadata.succeed(metadata)
    }

    private func complete(_ status: RPCStatus, _ trailers: Metadata) {
        guard !finished else { return }
        finished = true
        finalStatusValue = status
        deadlineTimer?.cancel()
        resolveInitialMetadata(Metadata())
        finalStatus.succeed(ClientCallResult(status: status, trailingMetadata: trailers))
        if status.code == .ok {
            responses.finish()
        } else {
            responses.finish(throwing: RPCError(code: status.code, message: status.message, metadata: trailers))
        }
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters {
            if status.code == .ok {
                waiter.resume()
            } else {
                waiter.resume(throwing: RPCError(code: status.code, message: status.message))
            }
        }
    }

    /// The gRPC code a client reports for a non-200 HTTP status (gRPC's HTTP-to-gRPC mapping).
    static func code(forHTTPStatus status: String) -> RPCStatusCode {
        switch status {
        case "400": .internal
        case "401": .unauthenticated
        case "403": .permissionDenied
        case "404": .unimplemented
        case "429", "502", "503", "504": .unavailable
        default: .unknown
        }
    }
}

/// How a call ended: the status and the trailing metadata.
public struct ClientCallResult: Sendable {
    /// The final status.
    public var status: RPCStatus
    /// Custom metadata from the trailers.
    public var trailingMetadata: Metadata
}
