import BatonProto
import BatonRPC
import BatonServer
import SwiftProtobuf
import Foundation
import Testing

/// Health and reflection through the Swift client.
@Suite(.timeLimit(.minutes(5))) struct StandardServicesTests {
    @Test func healthCheckKnowsServicesAndRejectsUnknownOnes() async throws {
        try await withTestServer { client, _ in
            let path = "/grpc.health.v1.Health/Check"
            for service in ["", "grpc.testing.TestService"] {
                let reply: Grpc_Health_V1_HealthCheckResponse = try await client.unary(
                    path, request: Grpc_Health_V1_HealthCheckRequest.with { $0.service = service })
                #expect(reply.status == .serving)
            }
            do {
                let _: Grpc_Health_V1_HealthCheckResponse = try await client.unary(
                    path, request: Grpc_Health_V1_HealthCheckRequest.with { $0.service = "nope" })
                Issue.record("expected NOT_FOUND")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
        }
    }

    @Test func healthWatchStreamsChanges() async throws {
        try await withTestServer { client, app in
            let call = try await client.makeCall("/grpc.health.v1.Health/Watch")
            try await call.send(Grpc_Health_V1_HealthCheckRequest.with { $0.service = "custom" })
            await call.finishSending()
            var updates = call.messages(as: Grpc_Health_V1_HealthCheckResponse.self).makeAsyncIterator()
            #expect(try await updates.next()?.status == .serviceUnknown)
            app.health.set("custom", .serving)
            #expect(try await updates.next()?.status == .serving)
            app.health.set("custom", .notServing)
            #expect(try await updates.next()?.status == .notServing)
            call.cancel()
        }
    }

    @Test(arguments: ["grpc.reflection.v1", "grpc.reflection.v1alpha"])
    func reflectionListsServicesAndDescribesSymbols(_ package: String) async throws {
        try await withTestServer { client, _ in
            let call = try await client.makeCall("/\(package).ServerReflection/ServerReflectionInfo")
            var replies = call.messages(as: Grpc_Reflection_V1_ServerReflectionResponse.self).makeAsyncIterator()

            try await call.send(Grpc_Reflection_V1_ServerReflectionRequest.with { $0.listServices = "" })
            let services = try await replies.next()?.listServicesResponse.service.map(\.name) ?? []
            #expect(Set(services).isSuperset(of: ["grpc.health.v1.Health", "grpc.testing.TestService",
                                                  "grpc.reflection.v1.ServerReflection"]))

            try await call.send(Grpc_Reflection_V1_ServerReflectionRequest.with {
                $0.fileContainingSymbol = "grpc.testing.SimpleRequest"
            })
            let files = try await replies.next()?.fileDescriptorResponse.fileDescriptorProto ?? []
            let names = try files.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name }
            #expect(names.first == "grpc/testing/messages.proto")

            try await call.send(Grpc_Reflection_V1_ServerReflectionRequest.with {
                $0.fileByFilename = "grpc/testing/test.proto"
            })
            let closure = try await replies.next()?.fileDescriptorResponse.fileDescriptorProto ?? []
            let closureNames = try closure.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name }
            #expect(Set(closureNames) == ["grpc/testing/test.proto", "grpc/testing/empty.proto", "grpc/testing/messages.proto"])

            try await call.send(Grpc_Reflection_V1_ServerReflectionRequest.with { $0.fileContainingSymbol = "no.Such" })
            let error = try await replies.next()?.errorResponse
            #expect(error?.errorCode == 5)
            #expect(error?.errorMessage.contains("no.Such") == true)
            await call.finishSending()
            #expect(try await replies.next() == nil)
        }
    }

    @Test func aTakenPortIsAClearError() async throws {
        try await withTestServer { _, app in
            var configuration = ServerConfiguration()
            configuration.listen = ListenAddress(host: "127.0.0.1", port: app.port)
            do {
                _ = try await ServerApplication.start(configuration, group: .singletonMultiThreadedEventLoopGroup)
                Issue.record("expected the bind to fail")
            } catch let error as ServerError {
                #expect(error.code == .bindFailed)
                #expect(error.message.contains("already in use"))
            }
        }
    }

    @Test func listenAddressesAreValidated() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:7400") == ListenAddress(host: "127.0.0.1", port: 7400))
        #expect(try ListenAddress(parsing: "[::1]:0") == ListenAddress(host: "::1", port: 0))
        for bad in ["7400", ":7400", "host:99999", "host:abc", "[::1]7400"] {
            #expect(throws: ServerError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }
}
