import BatonHTTP2
import NIOCore

/// One RPC on the server, in whichever protocol it arrived (gRPC, gRPC-Web, Connect; over HTTP/2 or
/// HTTP/1.1): validates the request head, deframes messages, runs the handler in a task, and writes
/// the response (head, messages, then the status in the protocol's form). Confined to the
/// connection's event loop; the handler's task reaches it through `NIOLoopBound` hops.
final class ServerCall: HTTPExchangeDelegate {
    private enum State {
        /// Waiting for the request headers.
        case idle
        /// Headers accepted; the handler runs (or starts when the request ends).
        case open
        /// The status was sent or the stream closed: everything else is discarded.
        case done
    }

    private let stream: any HTTPExchange
    private let eventLoop: any EventLoop
    private let configuration: RPCServerConfiguration
    private var state = State.idle
    private var wire: WireProtocol
    private var body: RequestBody
    private var handler: RPCHandler?
    private var context: ServerCallContext?
    /// The request queue of a streaming-request call.
    private var queue: InboundMessageQueue?
    /// The request of a unary-request call, collected before the handler starts.
    private var singleRequest: ByteBuffer?
    private let executor: EventLoopTaskExecutor
    private var task: Task<Void, Never>?
    private var deadlineTimer: Scheduled<Void>?
    private var headersSent = false
    private var drainWaiters: [CheckedContinuation<Void, any Error>] = []

    private let budget: CallBudget
    /// When the request headers arrived.
    private let began = ContinuousClock.now
    /// The served method's `/service/method` path, once the head is accepted.
    private var servedPath: String?

    /// The Connect unary response, sent with the status once the handler returns.
    private var unaryResponse: ByteBuffer?

    init(exchange: any HTTPExchange, wire: WireProtocol, eventLoop: any EventLoop, executor: EventLoopTaskExecutor,
         configuration: RPCServerConfiguration, budget: CallBudget) {
        self.budget = budget
        self.stream = exchange
        self.wire = wire
        self.eventLoop = eventLoop
        self.executor = executor
        self.configuration = configuration
        self.body = RequestBody(wire: wire, maxMessageSize: configuration.maxReceiveMessageSize)
    }

    // MARK: - HTTPExchangeDelegate

    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        guard case .idle = state else { return }  // trailers from a client carry nothing we use
        state = .open
        switch ServerRequestHead.validate(headers, wire: &wire, router: configuration.router,
                                          supportsTrailers: stream.supportsTrailers) {
        case .rejectHTTP(let status, let message):
            state = .done
            ExchangeRouter.reject(stream, status: status, message: message)
        case .rejectRPC(let error, let extra):
            finish(status: error, extraTrailers: extra)
        case .accept(let head):
            body = RequestBody(wire: wire, maxMessageSize: configuration.maxReceiveMessageSize, gzip: head.gzip)
            if let message = head.queryMessage { singleRequest = message }
            accept(head, endStream: endStream)
        }
    }

    private func accept(_ head: ServerRequestHead, endStream: Bool) {
        handler = head.handler
        servedPath = head.path
        if let refusal = stream.connectionRefusal {
            finish(status: RPCError(code: .resourceExhausted, message: refusal))
            return
        }
        if let authorize = configuration.authorize, let refusal = authorize(head.path, head.metadata) {
            finish(status: refusal)
            return
        }
        let peer = stream.remoteAddressDescription
        let account = stream.outboundAccount
        context = ServerCallContext(path: head.path, requestMetadata: head.metadata,
                                    deadline: head.timeout.map { ContinuousClock.now + $0 }, peer: peer,
                                    connection: stream.connectionIdentifier,
                                    clientHoldsUnreadResponses: { account.unreadBytes > 0 })
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        if head.handler.kind.streamsRequests {
            queue = InboundMessageQueue(limit: configuration.maxBufferedRequestBytes) { owed in
                loop.execute { loopBound.value.stream.consume(owed) }
            }
        }
        if let timeout = head.timeout {
            deadlineTimer = eventLoop.scheduleTask(in: .nanoseconds(timeout.nanosecondsClamped)) {
                loopBound.value.deadlineExceeded()
            }
        }
        if head.handler.kind.streamsRequests { startHandler() }
        if endStream { exchangeDidReceiveEnd(stream) }
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer) {
        guard case .open = state else {
            stream.consume(data.count)
            return
        }
        if queue?.admit(receivedBytes: data.count) ?? true { stream.consume(data.count) }
        do throws(RPCError) {
            try body.append(data)
            while let message = try body.next() {
                if let queue {
                    queue.append(message)
                } else if singleRequest == nil {
                    singleRequest = message
                } else {
                    throw RPCError(code: .internal, message: "expected one request message, received more")
                }
            }
        } catch {
            finish(status: error)
        }
    }

    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange) {
        guard case .open = state else { return }
        do throws(RPCError) {
            // Connect unary: the whole body is the message (a GET's came in the query instead).
            if let message = try body.end(), singleRequest == nil, queue == nil { singleRequest = message }
        } catch {
            finish(status: error)
            return
        }
        if let queue {
            queue.finish()
        } else if singleRequest == nil {
            finish(status: RPCError(code: .internal, message: "expected one request message, received none"))
            return
        }
        if task == nil { startHandler() }
    }

    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange) {
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32) {
        let wasDone: Bool
        if case .done = state { wasDone = true } else { wasDone = false }
        state = .done
        deadlineTimer?.cancel()
        if !wasDone {
            // The client reset the stream (or the connection dropped) before the status was sent.
            queue?.finish(error: RPCError(code: .cancelled, message: "the client cancelled the call"))
            task?.cancel()
        }
        failDrainWaiters()
    }

    // MARK: - Running the handler

    private func startHandler() {
        guard let handler, let context else { return }
        // A deadline that has already passed (e.g. `grpc-timeout: 1n`) is enforced before any work starts.
        if let deadline = context.deadline, ContinuousClock.now >= deadline {
            deadlineExceeded()
            return
        }
        // A connection (or the server) already holding as many unread response bytes as it may gets
        // no new work until its client reads.
        if let refusal = stream.outboundRefusal(adding: 1) {
            finish(status: RPCError(code: .resourceExhausted, message: refusal))
            return
        }
        let connection = stream.connectionIdentifier
        if let exhausted = budget.acquire(connection) {
            finish(status: exhausted)
            return
        }
        let budget = self.budget
        let source: RequestSource
        if let queue {
            source = .stream(queue)
        } else if let singleRequest {
            source = .single(singleRequest)
            self.singleRequest = nil
        } else {
            return
        }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        let sink = ResponseSink(codec: wire.codec) { framed in
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if loop.inEventLoop {
                    loopBound.value.sendMessage(framed, continuation: continuation)
                } else {
                    loop.execute { loopBound.value.sendMessage(framed, continuation: continuation) }
                }
            }
        }
        task = Task(executorPreference: executor) {
            var outcome: (response: ByteBuffer?, error: RPCError?)
            do {
                outcome = (try await handler.run(source, sink, context), nil)
            } catch let error as RPCError {
                outcome = (nil, error)
            } catch is CancellationError {
                outcome = (nil, RPCError(code: .cancelled, message: "the call was cancelled"))
            } catch {
                outcome = (nil, RPCError(code: .unknown, message: "\(error)", cause: error))
            }
            budget.release(connection)
            let finalOutcome = outcome
            let complete: @Sendable () -> Void = {
                let call = loopBound.value
                if let response = finalOutcome.response, !call.sendFinalMessage(response) { return }
                call.finish(status: finalOutcome.error ?? RPCError(code: .ok, message: ""))
            }
            if loop.inEventLoop { complete() } else { loop.execute(complete) }
        }
    }

    private func sendMessage(_ payload: ByteBuffer, continuation: CheckedContinuation<Void, any Error>) {
        guard case .open = state else {
            continuation.resume(throwing: RPCError(code: .cancelled, message: "the call is over"))
            return
        }
        let framed = wire.frame(payload)
        if let refusal = stream.outboundRefusal(adding: framed.readableBytes) {
            let error = RPCError(code: .resourceExhausted, message: refusal)
            continuation.resume(throwing: error)
            finish(status: error)
            return
        }
        sendHeadersIfNeeded()
        stream.sendData(framed, endStream: false)
        if stream.isOutboundFull {
            drainWaiters.append(continuation)
            stream.notifyWhenDrained()
        } else {
            continuation.resume()
        }
    }

    /// Queues the single response; false when the call ended instead (it was over, or the message would
    /// pass the outbound memory limits and the call failed with RESOURCE_EXHAUSTED, dropping it).
    private func sendFinalMessage(_ payload: ByteBuffer) -> Bool {
        guard case .open = state else { return false }
        let framed = wire.frame(payload)
        if let refusal = stream.outboundRefusal(adding: framed.readableBytes) {
            finish(status: RPCError(code: .resourceExhausted, message: refusal))
            return false
        }
        if wire.family == .connectUnary {
            unaryResponse = framed  // sent with the status: the HTTP status depends on it
            return true
        }
        sendHeadersIfNeeded()
        stream.sendData(framed, endStream: false)
        return true
    }

    private func sendHeadersIfNeeded() {
        guard !headersSent else { return }
        headersSent = true
        var headers = [HTTP2Header(":status", "200"), HTTP2Header("content-type", wire.responseContentType),
                       wire.acceptEncodingHeader]
        if let context { headers += context.initialMetadata.headers }
        stream.sendResponseHeaders(headers, endStream: false)
    }

    /// Sends the status in the call's protocol and ends the call.
    private func finish(status: RPCError, extraTrailers: [HTTP2Header] = []) {
        guard case .open = state else { return }
        state = .done
        deadlineTimer?.cancel()
        queue?.finish(error: status.code == .ok ? nil : status)
        if status.code != .ok { task?.cancel() }
        failDrainWaiters()
        if let observer = configuration.callObserver { observer(finishedCall(status)) }
        let initial = context?.initialMetadata ?? Metadata()
        let trailing = context?.trailingMetadata ?? Metadata()
        switch wire.family {
        case .grpc:
            let trailers = WireProtocol.grpcStatusFields(status, extra: extraTrailers, trailing: trailing)
            if headersSent {
                stream.sendTrailers(trailers)
            } else {
                headersSent = true
                let head = [HTTP2Header(":status", "200"), HTTP2Header("content-type", wire.responseContentType)]
                stream.sendResponseHeaders(head + initial.headers + trailers, endStream: true)
            }
        case .grpcWeb, .connectStream:
            sendHeadersIfNeeded()
            stream.sendData(wire.endOfStream(status, trailing: trailing), endStream: true)
        case .connectUnary:
            headersSent = true
            let (head, body) = wire.unaryEnding(status, response: unaryResponse, initial: initial, trailing: trailing)
            unaryResponse = nil
            stream.sendResponseHeaders(head, endStream: false)
            stream.sendData(body, endStream: true)
        }
    }

    private func finishedCall(_ status: RPCError) -> FinishedCall {
        var service = Substring(""), method = Substring("")
        if let path = servedPath?.dropFirst(), let slash = path.lastIndex(of: "/") {
            service = path[..<slash]
            method = path[path.index(after: slash)...]
        }
        return FinishedCall(service: String(service), method: String(method), code: status.code,
                            message: status.message, peer: stream.remoteAddressDescription,
                            duration: ContinuousClock.now - began)
    }

    private func deadlineExceeded() {
        finish(status: RPCError(code: .deadlineExceeded, message: "the call's deadline was exceeded"))
    }

    private func failDrainWaiters() {
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: RPCError(code: .cancelled, message: "the call is over")) }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `Int64`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : product + attoseconds / 1_000_000_000
    }
}
