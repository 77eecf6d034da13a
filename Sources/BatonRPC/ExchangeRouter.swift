import BatonHTTP2
import NIOCore

/// The first delegate of every request, on either HTTP version: once the head arrives it decides what
/// the request is — an RPC in one of the protocols ``WireProtocol`` detects (a ``ServerCall``), or a
/// page, stream or health check (a ``WebCall`` running the configuration's ``WebHandler``) — and
/// hands that delegate the head and everything after it.
final class ExchangeRouter: HTTPExchangeDelegate {
    private let eventLoop: any EventLoop
    private let executor: EventLoopTaskExecutor
    private let configuration: RPCServerConfiguration
    private let budget: CallBudget
    private var target: (any HTTPExchangeDelegate)?

    init(eventLoop: any EventLoop, executor: EventLoopTaskExecutor, configuration: RPCServerConfiguration,
         budget: CallBudget) {
        self.eventLoop = eventLoop
        self.executor = executor
        self.configuration = configuration
        self.budget = budget
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveHeaders headers: [HTTP2Header], endStream: Bool) {
        if let target {
            target.exchange(exchange, didReceiveHeaders: headers, endStream: endStream)
            return
        }
        var exchange = exchange
        switch configuration.cors.verdict(headers) {
        case .plain:
            break
        case .decorate(let extra):
            exchange = DecoratedExchange(exchange, adding: extra)
        case .preflight(let status, let extra, let message):
            if status == 204 {
                exchange.sendResponseHeaders([HTTP2Header(":status", "204")] + extra, endStream: true)
            } else {
                Self.reject(exchange, status: status, message: message)
            }
            return
        }
        let method = headers.first(named: ":method") ?? "POST"
        let path = URLQuery(headers.first(named: ":path") ?? "").path
        var detection = WireProtocol.detect(method: method, contentType: headers.first(named: "content-type"))
        // A GET is a Connect call only at a method's path, and a POST with an RPC content type only at
        // a path shaped like one (`/package.Service/Method`); anything else goes to the web routes.
        if case .rpc = detection, configuration.web != nil,
           method == "GET" ? !isMethodPath(path) : !Self.looksLikeMethodPath(path) {
            detection = .notRPC
        }
        let delegate: any HTTPExchangeDelegate
        switch detection {
        case .rpc(let wire):
            delegate = ServerCall(exchange: exchange, wire: wire, eventLoop: eventLoop, executor: executor,
                                  configuration: configuration, budget: budget)
        case .unsupported(let message):
            Self.reject(exchange, status: 415, message: message)
            return
        case .notRPC:
            // A request at a method's path (`/package.Service/Method`) without an RPC content type is a
            // client speaking no protocol we know: say which ones we do.
            guard let web = configuration.web, method == "GET" || !Self.looksLikeMethodPath(path) else {
                let contentType = headers.first(named: "content-type") ?? ""
                Self.reject(exchange, status: 415,
                            message: "content-type must be application/grpc, application/grpc-web(-text)(+proto|+json), "
                                + "application/json, application/proto or application/connect+(json|proto); "
                                + "got '\(contentType)'")
                return
            }
            if let refusal = exchange.connectionRefusal {
                Self.reject(exchange, status: 503, message: refusal)
                return
            }
            delegate = WebCall(exchange: exchange, eventLoop: eventLoop, executor: executor, handler: web)
        }
        target = delegate
        delegate.exchange(exchange, didReceiveHeaders: headers, endStream: endStream)
    }

    func exchange(_ exchange: any HTTPExchange, didReceiveData data: UnsafeRawBufferPointer) {
        if let target { target.exchange(exchange, didReceiveData: data) } else { exchange.consume(data.count) }
    }

    func exchangeDidReceiveEnd(_ exchange: any HTTPExchange) {
        target?.exchangeDidReceiveEnd(exchange)
    }

    func exchangeDidDrainOutbound(_ exchange: any HTTPExchange) {
        target?.exchangeDidDrainOutbound(exchange)
    }

    func exchange(_ exchange: any HTTPExchange, didCloseWithErrorCode errorCode: UInt32) {
        target?.exchange(exchange, didCloseWithErrorCode: errorCode)
        target = nil
    }

    /// `/package.Service/Method`: two segments, the first a package-qualified service name.
    static func looksLikeMethodPath(_ path: String) -> Bool {
        RPCRouter.service(of: path)?.contains(".") ?? false
    }

    private func isMethodPath(_ path: String) -> Bool {
        if case .found = configuration.router.lookup(path) { return true }
        return false
    }

    /// Answers with a plain HTTP status and a one-line text body.
    static func reject(_ exchange: any HTTPExchange, status: Int, message: String) {
        let text = ByteBuffer(string: message + "\n")
        exchange.sendResponseHeaders([HTTP2Header(":status", String(status)),
                                      HTTP2Header("content-type", "text/plain; charset=utf-8"),
                                      HTTP2Header("content-length", String(text.readableBytes)),
                                      HTTP2Header("x-baton-error", message)], endStream: false)
        exchange.sendData(text, endStream: true)
    }
}
