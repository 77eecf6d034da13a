import BatonHTTP2
import NIOCore

/// A gRPC server over Baton's nghttp2 transport.
///
/// ```swift
/// var router = RPCRouter()
/// router.register("/echo.Echo/Get", .unary { (request: Echo_Request, _) in Echo_Response() })
/// let server = try await RPCServer.start(host: "127.0.0.1", port: 0,
///                                        configuration: RPCServerConfiguration(router: router), group: group)
/// print("listening on \(server.port)")
/// await server.shutdownGracefully(timeout: .seconds(10))
/// ```
public final class RPCServer: Sendable {
    private let http2: HTTP2Server

    /// The bound port.
    public var port: Int { http2.port }

    private init(http2: HTTP2Server) {
        self.http2 = http2
    }

    /// Binds and starts serving.
    public static func start(host: String, port: Int, configuration: RPCServerConfiguration,
                             group: any EventLoopGroup) async throws -> RPCServer {
        // One task executor per event loop: handlers run on their connection's loop.
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() {
            executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(eventLoop: loop)
        }
        let loopExecutors = executors
        let budget = CallBudget(maxTotal: configuration.maxCallsInProgress,
                                maxPerConnection: configuration.maxCallsInProgressPerConnection)
        let makeRouter: HTTP2Server.ExchangeInitializer = { _, loop in
            let executor = loopExecutors[ObjectIdentifier(loop)] ?? EventLoopTaskExecutor(eventLoop: loop)
            return ExchangeRouter(eventLoop: loop, executor: executor, configuration: configuration, budget: budget)
        }
        // HTTP/1.1 requests get the same routing as HTTP/2 streams when there is a web handler; without
        // one the HTTP/1.1 side only says what the port speaks (426).
        let server = try await HTTP2Server.bind(host: host, port: port, group: group, settings: configuration.http2,
                                                http1: configuration.web == nil ? nil : makeRouter) { stream, loop in
            HTTP2ExchangeAdapter(makeRouter(stream, loop))
        }
        return RPCServer(http2: server)
    }

    /// Stops accepting connections, lets in-flight calls finish for up to `timeout`, then closes.
    public func shutdownGracefully(timeout: Duration) async {
        await http2.shutdownGracefully(timeout: timeout)
    }

    /// Closes every connection now.
    public func closeAllConnections() {
        http2.closeAllConnections()
    }
}
