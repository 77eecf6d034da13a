import BatonRPC
import BatonServer
import NIOPosix

/// Runs `body` with a client connected to a real server on an ephemeral loopback port.
func withTestServer(enableTestService: Bool = true, dataDirectory: String? = nil,
                    _ body: (RPCClient, ServerApplication) async throws -> Void) async throws {
    var configuration = ServerConfiguration()
    configuration.dataDirectory = dataDirectory
    configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
    configuration.enableTestService = enableTestService
    configuration.shutdownGracePeriod = .seconds(2)
    let group = MultiThreadedEventLoopGroup.singleton
    let app = try await ServerApplication.start(configuration, group: group)
    let client = RPCClient(host: "127.0.0.1", port: app.port, group: group)
    do {
        try await body(client, app)
    } catch {
        await client.close()
        await app.shutdown()
        throw error
    }
    await client.close()
    await app.shutdown()
}
