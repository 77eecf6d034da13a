import BatonProto
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

/// Waits for run `id` to close by following its StreamProgress stream (which ends when the run
/// closes), bounded by `timeout`, then returns its description.
func awaitClosed(_ client: RPCClient, _ id: String, timeout: Duration = .seconds(60)) async throws
    -> Baton_V1_WorkflowDescription {
    let stream = try await client.makeCall("/baton.v1.WorkflowService/StreamProgress", timeout: timeout)
    try await stream.send(Baton_V1_StreamProgressRequest.with { $0.workflowID = id })
    await stream.finishSending()
    for try await _ in stream.messages(as: Baton_V1_Progress.self) {}
    let reply: Baton_V1_DescribeWorkflowResponse = try await client.unary(
        "/baton.v1.WorkflowService/DescribeWorkflow", request: Baton_V1_DescribeWorkflowRequest.with { $0.workflowID = id },
        timeout: .seconds(30))
    return reply.workflow
}
