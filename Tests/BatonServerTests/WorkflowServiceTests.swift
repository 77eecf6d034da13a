import BatonProto
import BatonRPC
import BatonServer
import Foundation
import SwiftProtobuf
import Testing

/// WorkflowService end to end: the Swift client against a real server socket and engine.
@Suite(.timeLimit(.minutes(5))) struct WorkflowServiceTests {
    static let service = "/baton.v1.WorkflowService/"
    static let threeStep = """
        name: three
        steps:
          a: { activity: builtin.echo, input: { n: "${input.n}" } }
          b: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
          c: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
        output: { b: "${steps.b.output.from_a}", c: "${steps.c.output.from_a}" }
        """

    private func call<Response: SwiftProtobuf.Message>(_ client: RPCClient, _ method: String,
                                                       _ request: some SwiftProtobuf.Message) async throws -> Response {
        try await client.unary(Self.service + method, request: request)
    }

    private func expectStatus(_ code: RPCStatusCode, containing text: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as RPCError {
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains(text), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    private func waitClosed(_ client: RPCClient, _ id: String) async throws -> Baton_V1_WorkflowDescription {
        try await awaitClosed(client, id)
    }

    @Test func registerStartDescribeAndPageThroughHistory() async throws {
        try await withTestServer { client, _ in
            let registered: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.threeStep })
            #expect(registered.definition.name == "three" && registered.definition.version == 1)

            let fetched: Baton_V1_GetDefinitionResponse = try await call(
                client, "GetDefinition", Baton_V1_GetDefinitionRequest.with { $0.name = "three" })
            #expect(fetched.source == Self.threeStep)

            let started: Baton_V1_StartWorkflowResponse = try await call(
                client, "StartWorkflow", Baton_V1_StartWorkflowRequest.with {
                    $0.definition = "three"
                    $0.workflowID = "wf-1"
                    $0.input = Google_Protobuf_Value(structValue: .init(fields: ["n": .init(numberValue: 7)]))
                })
            #expect(started.workflowID == "wf-1")
            #expect(started.definition.version == 1)

            let closed = try await waitClosed(client, "wf-1")
            #expect(closed.info.status == .completed)
            #expect(closed.steps.map(\.name) == ["a", "b", "c"])
            #expect(closed.steps.allSatisfy { $0.status == .completed && $0.kind == "activity" })
            #expect(closed.output.structValue.fields["b"]?.numberValue == 7)

            // Page through the history two events at a time.
            var events: [Baton_V1_HistoryEvent] = []
            var token = ""
            repeat {
                let page: Baton_V1_GetHistoryResponse = try await call(client, "GetHistory", Baton_V1_GetHistoryRequest.with {
                    $0.workflowID = "wf-1"
                    $0.pageSize = 2
                    $0.pageToken = token
                })
                #expect(page.events.count <= 2)
                events += page.events
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(events.map(\.eventID) == Array(1...Int64(events.count)))
            #expect(events.first?.type == "WorkflowStarted")
            #expect(events.last?.type == "WorkflowCompleted")
            #expect(events.last?.eventID == closed.info.lastEventID)
            let completedA = events.first { $0.type == "StepCompleted" && $0.stepCompleted.step == "a" }
            #expect(completedA?.stepCompleted.attempt == 1)
            #expect(completedA?.stepCompleted.output.structValue.fields["n"]?.numberValue != nil)
            #expect(events.first?.workflowStarted.definition == "three")
        }
    }

    @Test func badRequestsGetClearStatusesAndTheServerKeepsServing() async throws {
        try await withTestServer { client, _ in
            await expectStatus(.invalidArgument, containing: "field 'activty' at 3:8") {
                let _: Baton_V1_RegisterDefinitionResponse = try await call(
                    client, "RegisterDefinition",
                    Baton_V1_RegisterDefinitionRequest.with { $0.source = "name: bad\nsteps:\n  a: { activty: x }\n" })
            }
            await expectStatus(.invalidArgument, containing: "definition") {
                let _: Baton_V1_RegisterDefinitionResponse = try await call(
                    client, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest())
            }
            await expectStatus(.notFound, containing: "nope") {
                let _: Baton_V1_DescribeWorkflowResponse = try await call(
                    client, "DescribeWorkflow", Baton_V1_DescribeWorkflowRequest.with { $0.workflowID = "nope" })
            }
            await expectStatus(.notFound, containing: "missing") {
                let _: Baton_V1_StartWorkflowResponse = try await call(
                    client, "StartWorkflow", Baton_V1_StartWorkflowRequest.with { $0.definition = "missing" })
            }
            await expectStatus(.invalidArgument, containing: "workflow_id") {
                let _: Baton_V1_StartWorkflowResponse = try await call(
                    client, "StartWorkflow", Baton_V1_StartWorkflowRequest.with {
                        $0.definition = "three"
                        $0.workflowID = "has/slash"
                    })
            }
            let _: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.threeStep })
            let _: Baton_V1_StartWorkflowResponse = try await call(
                client, "StartWorkflow", Baton_V1_StartWorkflowRequest.with { $0.definition = "three"; $0.workflowID = "w" })
            _ = try await waitClosed(client, "w")
            await expectStatus(.invalidArgument, containing: "page_token") {
                let _: Baton_V1_GetHistoryResponse = try await call(client, "GetHistory", Baton_V1_GetHistoryRequest.with {
                    $0.workflowID = "w"
                    $0.pageToken = "garbage"
                })
            }
            await expectStatus(.failedPrecondition, containing: "w") {
                let _: Baton_V1_SignalResponse = try await call(client, "Signal", Baton_V1_SignalRequest.with {
                    $0.workflowID = "w"
                    $0.name = "approve"
                })
            }
            await expectStatus(.resourceExhausted, containing: "exceeds") {
                let _: Baton_V1_RegisterDefinitionResponse = try await call(
                    client, "RegisterDefinition",
                    Baton_V1_RegisterDefinitionRequest.with { $0.source = String(repeating: "#", count: 5 << 20) })
            }
            // Still serving.
            let _: Baton_V1_DescribeWorkflowResponse = try await call(
                client, "DescribeWorkflow", Baton_V1_DescribeWorkflowRequest.with { $0.workflowID = "w" })
        }
    }
}
