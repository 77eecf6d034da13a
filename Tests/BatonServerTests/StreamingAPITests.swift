import BatonProto
import BatonRPC
import BatonServer
import Foundation
import SwiftProtobuf
import Testing

/// Query, StreamProgress, WatchHistory and AdminService through the Swift client.
@Suite(.timeLimit(.minutes(5))) struct StreamingAPITests {
    static let approval = """
        name: approval
        steps:
          prepare: { activity: builtin.echo, input: { item: "${input.item}" }, phase: prep }
          approve:
            depends_on: [prepare]
            phase: review
            wait_for_signal: { name: approve, timeout: 1h, on_timeout: fail }
        output: { approved: "${steps.approve.signal.ok}" }
        """

    private func call<Response: SwiftProtobuf.Message>(_ client: RPCClient, _ path: String,
                                                       _ request: some SwiftProtobuf.Message) async throws -> Response {
        try await client.unary(path, request: request)
    }

    private func setUp(_ client: RPCClient, id: String) async throws {
        let _: Baton_V1_RegisterDefinitionResponse = try await call(
            client, "/baton.v1.WorkflowService/RegisterDefinition",
            Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.approval })
        let _: Baton_V1_StartWorkflowResponse = try await call(
            client, "/baton.v1.WorkflowService/StartWorkflow", Baton_V1_StartWorkflowRequest.with {
                $0.definition = "approval"
                $0.workflowID = id
            })
    }

    private func approve(_ client: RPCClient, _ id: String) async throws {
        let _: Baton_V1_SignalResponse = try await call(client, "/baton.v1.WorkflowService/Signal", Baton_V1_SignalRequest.with {
            $0.workflowID = id
            $0.name = "approve"
            $0.payload = Google_Protobuf_Value(structValue: .init(fields: ["ok": .init(boolValue: true)]))
        })
    }

    @Test func progressStreamsASnapshotThenChangesAndEndsWhenTheRunCloses() async throws {
        try await withTestServer { client, _ in
            try await setUp(client, id: "p-1")
            let stream = try await client.makeCall("/baton.v1.WorkflowService/StreamProgress")
            try await stream.send(Baton_V1_StreamProgressRequest.with { $0.workflowID = "p-1" })
            await stream.finishSending()
            var updates = stream.messages(as: Baton_V1_Progress.self).makeAsyncIterator()
            var progress = try #require(try await updates.next())
            #expect(progress.workflowID == "p-1" && progress.status == .running)
            // Wait until the run waits for the approval.
            while !progress.runningSteps.contains("approve") {
                progress = try #require(try await updates.next())
            }
            #expect(progress.currentPhase == "review")
            #expect(progress.completedSteps == ["prepare"])
            #expect(progress.percentage > 0 && progress.percentage < 100)
            try await approve(client, "p-1")
            var last = progress
            while let next = try await updates.next() {
                #expect(next.eventID >= last.eventID)
                last = next
            }
            #expect(last.status == .completed && last.percentage == 100)
            #expect(try await stream.result().status == .ok)

            // Query answers from the closed run.
            let output: Baton_V1_QueryResponse = try await call(
                client, "/baton.v1.WorkflowService/Query", Baton_V1_QueryRequest.with { $0.workflowID = "p-1"; $0.query = "output" })
            #expect(output.result.structValue.fields["approved"]?.boolValue == true)
            do {
                let _: Baton_V1_QueryResponse = try await call(
                    client, "/baton.v1.WorkflowService/Query",
                    Baton_V1_QueryRequest.with { $0.workflowID = "p-1"; $0.query = "no_such_query" })
                Issue.record("expected INVALID_ARGUMENT")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("no_such_query"))
            }
        }
    }

    @Test func repeatsAreReportedAsSuch() async throws {
        try await withTestServer { client, _ in
            try await setUp(client, id: "r-1")
            let again: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "/baton.v1.WorkflowService/RegisterDefinition",
                Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.approval })
            #expect(!again.created && again.definition.version == 1)
            let changed: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "/baton.v1.WorkflowService/RegisterDefinition",
                Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.approval.replacingOccurrences(of: "1h", with: "2h") })
            #expect(changed.created && changed.definition.version == 2)
            let signal = Baton_V1_SignalRequest.with {
                $0.workflowID = "r-1"
                $0.name = "note"
                $0.requestID = "req-1"
            }
            let first: Baton_V1_SignalResponse = try await call(client, "/baton.v1.WorkflowService/Signal", signal)
            let second: Baton_V1_SignalResponse = try await call(client, "/baton.v1.WorkflowService/Signal", signal)
            #expect(first.accepted && !second.accepted)
        }
    }

    @Test func watchHistoryResumesFromAnEventIDWithExactlyTheMissedEvents() async throws {
        try await withTestServer { client, _ in
            try await setUp(client, id: "h-1")
            try await approve(client, "h-1")
            var all: [Int64] = []
            let full = try await client.makeCall("/baton.v1.WorkflowService/WatchHistory")
            try await full.send(Baton_V1_WatchHistoryRequest.with { $0.workflowID = "h-1" })
            await full.finishSending()
            for try await event in full.messages(as: Baton_V1_HistoryEvent.self) { all.append(event.eventID) }
            #expect(all == Array(1...Int64(all.count)))

            let resumed = try await client.makeCall("/baton.v1.WorkflowService/WatchHistory")
            try await resumed.send(Baton_V1_WatchHistoryRequest.with { $0.workflowID = "h-1"; $0.afterEventID = 3 })
            await resumed.finishSending()
            var rest: [Int64] = []
            for try await event in resumed.messages(as: Baton_V1_HistoryEvent.self) { rest.append(event.eventID) }
            #expect(rest == Array(all.dropFirst(3)))

            let unknown = try await client.makeCall("/baton.v1.WorkflowService/WatchHistory")
            try await unknown.send(Baton_V1_WatchHistoryRequest.with { $0.workflowID = "nope" })
            await unknown.finishSending()
            #expect(try await unknown.result().status.code == .notFound)
        }
    }

    @Test func adminReportsServerInfoAndBreakers() async throws {
        try await withTestServer { client, _ in
            let info: Baton_V1_GetServerInfoResponse = try await call(
                client, "/baton.v1.AdminService/GetServerInfo", Baton_V1_GetServerInfoRequest())
            #expect(info.version == "0.1.0")
            #expect(info.durability == "memory")
            let breakers: Baton_V1_ListCircuitBreakersResponse = try await call(
                client, "/baton.v1.AdminService/ListCircuitBreakers", Baton_V1_ListCircuitBreakersRequest())
            #expect(breakers.breakers.isEmpty)
            do {
                let _: Baton_V1_ResetCircuitBreakerResponse = try await call(
                    client, "/baton.v1.AdminService/ResetCircuitBreaker",
                    Baton_V1_ResetCircuitBreakerRequest.with { $0.key = "unknown" })
                Issue.record("expected NOT_FOUND")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
        }
    }
}
