import BatonProto
import BatonRPC
import BatonServer
import NIOPosix
import Testing

/// Handler work in progress is bounded per connection and server-wide: a call over the limit gets
/// RESOURCE_EXHAUSTED at once, and every other client is still served.
@Suite(.timeLimit(.minutes(5))) struct CallBudgetTests {
    @Test func aConnectionOverItsLimitGetsResourceExhaustedAndOthersAreServed() async throws {
        var configuration = ServerConfiguration()
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.enableTestService = true
        configuration.maxCallsInProgressPerConnection = 2
        let group = MultiThreadedEventLoopGroup.singleton
        let app = try await ServerApplication.start(configuration, group: group)
        let greedy = RPCClient(host: "127.0.0.1", port: app.port, group: group)
        let other = RPCClient(host: "127.0.0.1", port: app.port, group: group)

        // Two calls that stay in progress until the test has made its checks (they wait for more input).
        var open: [RPCClientCall] = []
        for _ in 0..<2 {
            let call = try await greedy.makeCall("/grpc.testing.TestService/FullDuplexCall")
            try await call.send(Grpc_Testing_StreamingOutputCallRequest.with { $0.responseParameters = [.with { $0.size = 1 }] })
            var replies = call.messages(as: Grpc_Testing_StreamingOutputCallResponse.self).makeAsyncIterator()
            #expect(try await replies.next() != nil)  // its handler runs
            open.append(call)
        }
        do {
            let _: Grpc_Testing_Empty = try await greedy.unary("/grpc.testing.TestService/EmptyCall", request: Grpc_Testing_Empty())
            Issue.record("a third call on a connection limited to two was served")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("2 calls in progress"), "\(error.message)")
        }
        // Another connection is not affected.
        let _: Grpc_Testing_Empty = try await other.unary("/grpc.testing.TestService/EmptyCall", request: Grpc_Testing_Empty())

        // Once the two calls end, the connection is served again.
        for call in open {
            await call.finishSending()
            #expect(try await call.result().status == .ok)
        }
        let _: Grpc_Testing_Empty = try await greedy.unary("/grpc.testing.TestService/EmptyCall", request: Grpc_Testing_Empty())
        await greedy.close()
        await other.close()
        await app.shutdown()
    }
}
