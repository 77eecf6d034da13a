import BatonProto
import BatonRPC
import Foundation
import Testing

/// The gRPC interop cases, driven by Baton's own Swift client against a real server socket.
@Suite(.timeLimit(.minutes(5))) struct InteropTests {
    typealias Request = Grpc_Testing_StreamingOutputCallRequest
    typealias Response = Grpc_Testing_StreamingOutputCallResponse
    static let service = "/grpc.testing.TestService/"

    private func payload(_ size: Int) -> Grpc_Testing_Payload { .with { $0.body = Data(count: size) } }

    @Test func emptyUnary() async throws {
        try await withTestServer { client, _ in
            let reply: Grpc_Testing_Empty = try await client.unary(Self.service + "EmptyCall", request: Grpc_Testing_Empty())
            #expect(reply == Grpc_Testing_Empty())
        }
    }

    @Test func largeUnary() async throws {
        try await withTestServer { client, _ in
            let request = Grpc_Testing_SimpleRequest.with {
                $0.responseSize = 314_159
                $0.payload = payload(271_828)
            }
            let reply: Grpc_Testing_SimpleResponse = try await client.unary(Self.service + "UnaryCall", request: request)
            #expect(reply.payload.body.count == 314_159)
            #expect(reply.payload.body.allSatisfy { $0 == 0 })
        }
    }

    @Test func clientStreaming() async throws {
        try await withTestServer { client, _ in
            let call = try await client.makeCall(Self.service + "StreamingInputCall")
            for size in [27182, 8, 1828, 45904] {
                try await call.send(Grpc_Testing_StreamingInputCallRequest.with { $0.payload = payload(size) })
            }
            await call.finishSending()
            var replies: [Grpc_Testing_StreamingInputCallResponse] = []
            for try await reply in call.messages(as: Grpc_Testing_StreamingInputCallResponse.self) { replies.append(reply) }
            #expect(replies.map(\.aggregatedPayloadSize) == [74922])
            #expect(try await call.result().status == .ok)
        }
    }

    @Test func serverStreaming() async throws {
        try await withTestServer { client, _ in
            let sizes: [Int32] = [31415, 9, 2653, 58979]
            let call = try await client.makeCall(Self.service + "StreamingOutputCall")
            try await call.send(Request.with { $0.responseParameters = sizes.map { size in .with { $0.size = size } } })
            await call.finishSending()
            var received: [Int] = []
            for try await reply in call.messages(as: Response.self) { received.append(reply.payload.body.count) }
            #expect(received == sizes.map(Int.init))
        }
    }

    @Test func pingPong() async throws {
        try await withTestServer { client, _ in
            let requestSizes = [27182, 8, 1828, 45904]
            let responseSizes: [Int32] = [31415, 9, 2653, 58979]
            let call = try await client.makeCall(Self.service + "FullDuplexCall")
            var replies = call.messages(as: Response.self).makeAsyncIterator()
            for (requestSize, responseSize) in zip(requestSizes, responseSizes) {
                try await call.send(Request.with {
                    $0.payload = payload(requestSize)
                    $0.responseParameters = [.with { $0.size = responseSize }]
                })
                let reply = try await replies.next()
                #expect(reply?.payload.body.count == Int(responseSize))
            }
            await call.finishSending()
            #expect(try await replies.next() == nil)
            #expect(try await call.result().status == .ok)
        }
    }

    @Test func emptyStream() async throws {
        try await withTestServer { client, _ in
            let call = try await client.makeCall(Self.service + "FullDuplexCall")
            await call.finishSending()
            var count = 0
            for try await _ in call.messages(as: Response.self) { count += 1 }
            #expect(count == 0)
            #expect(try await call.result().status == .ok)
        }
    }

    @Test func customMetadata() async throws {
        try await withTestServer { client, _ in
            var metadata = Metadata()
            metadata.add("x-grpc-test-echo-initial", "test_initial_metadata_value")
            metadata.add("x-grpc-test-echo-trailing-bin", binary: [0xAB, 0xAB, 0xAB])
            let request = Grpc_Testing_SimpleRequest.with { $0.responseSize = 314_159; $0.payload = payload(271_828) }
            let (reply, initial, trailing): (Grpc_Testing_SimpleResponse, Metadata, Metadata) =
                try await client.unaryWithMetadata(Self.service + "UnaryCall", request: request, metadata: metadata)
            #expect(reply.payload.body.count == 314_159)
            #expect(initial["x-grpc-test-echo-initial"] == "test_initial_metadata_value")
            #expect(trailing.binary("x-grpc-test-echo-trailing-bin") == [0xAB, 0xAB, 0xAB])

            let call = try await client.makeCall(Self.service + "FullDuplexCall", metadata: metadata)
            try await call.send(Request.with { $0.responseParameters = [.with { $0.size = 314_159 }] })
            await call.finishSending()
            for try await reply in call.messages(as: Response.self) { #expect(reply.payload.body.count == 314_159) }
            #expect(try await call.initialMetadata()["x-grpc-test-echo-initial"] == "test_initial_metadata_value")
            #expect(try await call.result().trailingMetadata.binary("x-grpc-test-echo-trailing-bin") == [0xAB, 0xAB, 0xAB])
        }
    }

    @Test(arguments: ["test status message", "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"])
    func statusCodeAndMessage(_ message: String) async throws {
        try await withTestServer { client, _ in
            let status = Grpc_Testing_EchoStatus.with { $0.code = 2; $0.message = message }
            do {
                let _: Grpc_Testing_SimpleResponse = try await client.unary(
                    Self.service + "UnaryCall", request: Grpc_Testing_SimpleRequest.with { $0.responseStatus = status })
                Issue.record("expected UNKNOWN")
            } catch let error as RPCError {
                #expect(error.code == .unknown)
                #expect(error.message == message)
            }
            let call = try await client.makeCall(Self.service + "FullDuplexCall")
            try await call.send(Request.with { $0.responseStatus = status })
            await call.finishSending()
            let result = try await call.result()
            #expect(result.status == RPCStatus(code: .unknown, message: message))
        }
    }

    @Test func unimplementedMethodAndService() async throws {
        try await withTestServer { client, _ in
            for path in [Self.service + "UnimplementedCall", "/grpc.testing.UnimplementedService/UnimplementedCall",
                         Self.service + "NoSuchMethod"] {
                do {
                    let _: Grpc_Testing_Empty = try await client.unary(path, request: Grpc_Testing_Empty())
                    Issue.record("expected UNIMPLEMENTED for \(path)")
                } catch let error as RPCError {
                    #expect(error.code == .unimplemented, "\(path)")
                }
            }
        }
    }

    @Test func cancelAfterBegin() async throws {
        try await withTestServer { client, _ in
            let call = try await client.makeCall(Self.service + "StreamingInputCall")
            call.cancel()
            #expect(try await call.result().status.code == .cancelled)
            // The server keeps serving.
            let _: Grpc_Testing_Empty = try await client.unary(Self.service + "EmptyCall", request: Grpc_Testing_Empty())
        }
    }

    @Test func cancelAfterFirstResponse() async throws {
        try await withTestServer { client, _ in
            let call = try await client.makeCall(Self.service + "FullDuplexCall")
            try await call.send(Request.with {
                $0.payload = payload(27182)
                $0.responseParameters = [.with { $0.size = 31415 }]
            })
            var replies = call.messages(as: Response.self).makeAsyncIterator()
            #expect(try await replies.next()?.payload.body.count == 31415)
            call.cancel()
            #expect(try await call.result().status.code == .cancelled)
        }
    }

    @Test func timeoutOnSleepingServer() async throws {
        try await withTestServer { client, _ in
            let call = try await client.makeCall(Self.service + "FullDuplexCall", timeout: .milliseconds(1))
            try? await call.send(Request.with { $0.payload = payload(27182) })
            #expect(try await call.result().status.code == .deadlineExceeded)
        }
    }

    @Test func theServerEnforcesDeadlinesItself() async throws {
        try await withTestServer { client, _ in
            // A header-only deadline: no client timer, so only the server can end the call (its only
            // response is 5 s away).
            var metadata = Metadata()
            metadata.add("grpc-timeout", "200m")
            let call = try await client.makeCall(Self.service + "StreamingOutputCall", metadata: metadata)
            // On a loaded machine the server's deadline may end the call before the request is sent.
            try? await call.send(Request.with { $0.responseParameters = [.with { $0.size = 1; $0.intervalUs = 5_000_000 }] })
            await call.finishSending()
            let result = try await call.result()
            #expect(result.status.code == .deadlineExceeded)
        }
    }

    @Test func anOversizedRequestIsResourceExhaustedAndTheServerKeepsServing() async throws {
        try await withTestServer { client, _ in
            do {
                let _: Grpc_Testing_SimpleResponse = try await client.unary(
                    Self.service + "UnaryCall", request: Grpc_Testing_SimpleRequest.with { $0.payload = payload(5 << 20) })
                Issue.record("expected RESOURCE_EXHAUSTED")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
            }
            let _: Grpc_Testing_Empty = try await client.unary(Self.service + "EmptyCall", request: Grpc_Testing_Empty())
        }
    }
}
