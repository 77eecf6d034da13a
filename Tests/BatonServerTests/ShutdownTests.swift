import BatonProto
import BatonRPC
import BatonServer
import NIOPosix
import Testing

@Suite(.timeLimit(.minutes(5))) struct ShutdownTests {
    @Test func gracefulShutdownDrainsInFlightCallsAndTurnsHealthNotServing() async throws {
        var configuration = ServerConfiguration()
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.enableTestService = true
        configuration.shutdownGracePeriod = .seconds(10)
        let group = MultiThreadedEventLoopGroup.singleton
        let app = try await ServerApplication.start(configuration, group: group)
        let client = RPCClient(host: "127.0.0.1", port: app.port, group: group)

        // A call that needs ~300 ms: three responses 100 ms apart.
        let call = try await client.makeCall("/grpc.testing.TestService/StreamingOutputCall")
        try await call.send(Grpc_Testing_StreamingOutputCallRequest.with {
            $0.responseParameters = (0..<3).map { _ in .with { $0.size = 10; $0.intervalUs = 100_000 } }
        })
        await call.finishSending()
        var replies = call.messages(as: Grpc_Testing_StreamingOutputCallResponse.self).makeAsyncIterator()
        #expect(try await replies.next() != nil)

        let health = app.health.watch("")
        let shutdown = Task { await app.shutdown() }
        // Health turns NOT_SERVING as soon as the shutdown begins, while the call is still draining.
        for await status in health where status == .notServing { break }
        var rest = 0
        while try await replies.next() != nil { rest += 1 }
        #expect(rest == 2)
        #expect(try await call.result().status == .ok)
        #expect(app.health.status(of: "") == .notServing)
        #expect(app.health.status(of: "grpc.testing.TestService") == .notServing)
        await shutdown.value

        // After shutdown nothing is accepted.
        do {
            let _: Grpc_Testing_Empty = try await client.unary("/grpc.testing.TestService/EmptyCall",
                                                               request: Grpc_Testing_Empty())
            Issue.record("expected the call to fail after shutdown")
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
        }
        await client.close()
    }
}
