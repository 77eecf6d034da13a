import BatonHTTP2
import NIOCore

/// One non-RPC request: runs the ``WebHandler`` in a task once the head arrived, carries its writes
/// to the exchange with backpressure (a write waits while the client has unread bytes past the
/// watermark) and ends the response when the handler returns. The client going away cancels the task.
final class WebCall: HTTPExchangeDelegate {
    private let exchange: any HTTPExchange
    private let eventLoop: any EventLoop
    private let executor: EventLoopTaskExecutor
    private let handler: WebHandler
    private var task: Task<Void, Never>?
    private var headSent = false
    private var done = false
    private var drainWaiters: [CheckedContinuation<Void, any Error>] = []
    /// A HEAD request: the head is sent as for GET, the body never (its length still announced).
    private var isHead = false

    init(exchange: any HTTPExchange, eventLoop: any EventLoop, executor: EventLoopTaskExecutor, handler: @escaping WebHandler) {
        self.exchange = exchange
        self.eventLoop = eventLoop
        self.executor = executor
        self.handler = handler
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        guard task == nil, !done else { return }
        isHead = headers.first(named: ":method") == "HEAD"
        let request = WebRequest(method: headers.first(named: ":method") ?? "GET",
                                 target: URLQuery(headers.first(named: ":path") ?? "/"), headers: headers,
                                 connection: exchange.connectionIdentifier)
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        let onLoop: @Sendable (@escaping @Sendable (WebCall) -> Void) -> Void = { body in
            if loop.inEventLoop { body(loopBound.value) } else { loop.execute { body(loopBound.value) } }
        }
        let writer = WebResponseWriter(
            sendHead: { status, fields in
                try await withCheckedThrowingContinuation { continuation in
                    onLoop { $0.head(status: status, fields: fields, continuation: continuation) }
                }
            },
            sendBody: { bytes in
                try await withCheckedThrowingContinuation { continuation in
                    onLoop { $0.body(bytes, continuation: continuation) }
                }
            },
            end: {
                onLoop { call in
                    call.task?.cancel()
                    call.complete(failed: false)
                }
            })
        let handler = self.handler
        task = Task(executorPreference: executor) {
            var failed = false
            do {
                try await handler(request, writer)
            } catch {
                failed = true
            }
            let outcome = failed
            onLoop { $0.complete(failed: outcome) }
        }
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer) {
        exchange.consume(data.count)  // request bodies of pages and streams are not read
    }

    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange) {}

    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange) {
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32) {
        let wasDone = done
        done = true
        if !wasDone { task?.cancel() }
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: CancellationError()) }
    }

    // MARK: - On the loop

    private func head(status: Int, fields: [HTTP2Header], continuation: CheckedContinuation<Void, any Error>) {
        guard !done, !headSent else {
            continuation.resume(throwing: CancellationError())
            return
        }
        headSent = true
        exchange.sendResponseHeaders([HTTP2Header(":status", String(status))] + fields, endStream: false)
        continuation.resume()
    }

    private func body(_ bytes: ByteBuffer, continuation: CheckedContinuation<Void, any Error>) {
        guard !done, headSent, exchange.outboundRefusal(adding: bytes.readableBytes) == nil else {
            continuation.resume(throwing: CancellationError())
            return
        }
        if isHead {
            continuation.resume()
            return
        }
        exchange.sendData(bytes, endStream: false)
        if exchange.isOutboundFull {
            drainWaiters.append(continuation)
            exchange.notifyWhenDrained()
        } else {
            continuation.resume()
        }
    }

    private func complete(failed: Bool) {
        guard !done else { return }
        done = true
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: CancellationError()) }
        if !headSent {
            let text = ByteBuffer(string: failed ? "the server could not answer this request\n" : "")
            exchange.sendResponseHeaders([HTTP2Header(":status", failed ? "500" : "204"),
                                          HTTP2Header("content-type", "text/plain; charset=utf-8"),
                                          HTTP2Header("content-length", String(text.readableBytes))], endStream: false)
        }
        exchange.sendData(ByteBuffer(), endStream: true)
    }
}
