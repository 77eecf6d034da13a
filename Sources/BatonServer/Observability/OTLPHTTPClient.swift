import NIOCore
import NIOHTTP1
import NIOPosix

/// Where spans go: an OTLP/HTTP traces URL (`http://HOST[:PORT]/PATH`).
public struct OTLPEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The host to connect to.
    public var host: String
    /// The port (default 4318, OTLP/HTTP's).
    public var port: Int
    /// The request path, e.g. `/v1/traces`.
    public var path: String

    /// The URL.
    public var description: String { "http://\(host):\(port)\(path)" }

    /// An endpoint from its parts.
    public init(host: String, port: Int, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses a traces URL as given (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), or a base URL to which
    /// `/v1/traces` is appended (`--otlp-endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT`), as OpenTelemetry's
    /// exporter specification says. Throws a message naming what is wrong.
    public init(parsing text: String, appendingSignalPath: Bool) throws(ServerError) {
        guard text.hasPrefix("http://") else {
            let reason = text.hasPrefix("https://")
                ? "https is not supported yet (TLS is issue 15); use an http:// collector on a trusted network"
                : "give an http:// URL, e.g. http://127.0.0.1:4318"
            throw ServerError(.invalidConfiguration, "OTLP endpoint '\(text)': \(reason)")
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        var host = Substring(authority)
        var port = 4318
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ServerError(.invalidConfiguration, "OTLP endpoint '\(text)': unclosed '[' in the host")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65_535).contains(value) else {
                    throw ServerError(.invalidConfiguration, "OTLP endpoint '\(text)': the port must be 1 to 65535")
                }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65_535).contains(value) else {
                throw ServerError(.invalidConfiguration, "OTLP endpoint '\(text)': the port must be 1 to 65535")
            }
            port = value
        }
        guard !host.isEmpty, !host.contains(where: { $0 == "@" || $0 == " " || $0.isNewline }) else {
            throw ServerError(.invalidConfiguration, "OTLP endpoint '\(text)': no host (give http://HOST[:PORT])")
        }
        if path.contains("?") || path.contains("#") {
            throw ServerError(.invalidConfiguration, "OTLP endpoint '\(text)': no query or fragment allowed")
        }
        if appendingSignalPath {
            if path.hasSuffix("/") { path.removeLast() }
            path += "/v1/traces"
        } else if path.isEmpty {
            path = "/"
        }
        self.host = String(host)
        self.port = port
        self.path = path
    }
}

/// POSTs protobuf bodies to an OTLP/HTTP endpoint over HTTP/1.1 (NIOHTTP1), one connection per
/// export (exports are at most about one a second), with a deadline on each.
struct OTLPHTTPClient: Sendable {
    let endpoint: OTLPEndpoint
    let group: any EventLoopGroup
    var timeout: TimeAmount = .seconds(10)

    /// Sends `body`; returns the response status.
    func post(_ body: [UInt8]) async throws -> Int {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Int.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseStatusHandler(promise: promise))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            promise.fail(error)  // every promise is completed, also when no connection was made
            throw error
        }
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(ChannelError.connectTimeout(.seconds(10)))
            channel.close(promise: nil)
        }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: endpoint.port == 80 ? endpoint.host : "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "content-type", value: "application/x-protobuf")
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        headers.add(name: "user-agent", value: "baton/\(AdminService.version)")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Completes `promise` with the response's status once the response ended (or fails it when the
/// connection closes first).
private final class ResponseStatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<Int>
    private var status: Int?

    init(promise: EventLoopPromise<Int>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body: break
        case .end: promise.succeed(status ?? 0)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.inputClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
