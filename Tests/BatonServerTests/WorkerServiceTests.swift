import BatonProto
import BatonRPC
import BatonServer
import Foundation
import SwiftProtobuf
import Testing

/// WorkerService end to end: a worker written against the RPCs polls, heartbeats, fails, succeeds.
@Suite(.timeLimit(.minutes(5))) struct WorkerServiceTests {
    static let definition = """
        name: external
        defaults:
          task_queue: marketing
          retry: { initial_interval: 10ms, maximum_attempts: 3 }
        steps:
          research: { activity: research.market, input: { topic: "${input.topic}" }, heartbeat_timeout: 30s }
          brief: { activity: builtin.echo, depends_on: [research], input: { found: "${steps.research.output.found}" } }
        output: { found: "${steps.brief.output.found}" }
        """

    private func call<Response: SwiftProtobuf.Message>(_ client: RPCClient, _ path: String,
                                                       _ request: some SwiftProtobuf.Message,
                                                       timeout: Duration? = nil) async throws -> Response {
        try await client.unary(path, request: request, timeout: timeout)
    }

    private func poll(_ client: RPCClient) async throws -> Baton_V1_PollActivityTaskResponse {
        try await call(client, "/baton.v1.WorkerService/PollActivityTask",
                       Baton_V1_PollActivityTaskRequest.with { $0.taskQueue = "marketing"; $0.workerIdentity = "w1" },
                       timeout: .seconds(5))
    }

    private func describe(_ client: RPCClient, _ id: String) async throws -> Baton_V1_WorkflowDescription {
        let reply: Baton_V1_DescribeWorkflowResponse = try await call(
            client, "/baton.v1.WorkflowService/DescribeWorkflow", Baton_V1_DescribeWorkflowRequest.with { $0.workflowID = id })
        return reply.workflow
    }

    @Test func aWorkerHeartbeatsFailsOnceThenSucceeds() async throws {
        try await withTestServer { client, _ in
            let _: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "/baton.v1.WorkflowService/RegisterDefinition",
                Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.definition })
            let _: Baton_V1_StartWorkflowResponse = try await call(
                client, "/baton.v1.WorkflowService/StartWorkflow", Baton_V1_StartWorkflowRequest.with {
                    $0.definition = "external"
                    $0.workflowID = "ext-1"
                    $0.input = Google_Protobuf_Value(structValue: .init(fields: ["topic": .init(stringValue: "widgets")]))
                })

            let first = try await poll(client)
            #expect(first.workflowID == "ext-1" && first.step == "research" && first.activity == "research.market")
            #expect(first.attempt == 1 && first.idempotencyKey == "ext-1/research/1")
            #expect(first.input.structValue.fields["topic"]?.stringValue == "widgets")
            #expect(first.taskToken.count == 32)

            let beat: Baton_V1_RecordHeartbeatResponse = try await call(
                client, "/baton.v1.WorkerService/RecordHeartbeat", Baton_V1_RecordHeartbeatRequest.with {
                    $0.taskToken = first.taskToken
                    $0.details = Google_Protobuf_Value(stringValue: "page-7")
                })
            #expect(!beat.cancelRequested)
            let _: Baton_V1_FailActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/FailActivityTask", Baton_V1_FailActivityTaskRequest.with {
                    $0.taskToken = first.taskToken
                    $0.failure = .with { $0.type = "Flaky"; $0.message = "try again" }
                })
            // The token is spent.
            do {
                let _: Baton_V1_CompleteActivityTaskResponse = try await call(
                    client, "/baton.v1.WorkerService/CompleteActivityTask",
                    Baton_V1_CompleteActivityTaskRequest.with { $0.taskToken = first.taskToken })
                Issue.record("expected NOT_FOUND for a spent token")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }

            let second = try await poll(client)
            #expect(second.attempt == 2 && second.idempotencyKey == "ext-1/research/2")
            #expect(second.heartbeatDetails.stringValue == "page-7")
            let _: Baton_V1_CompleteActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/CompleteActivityTask", Baton_V1_CompleteActivityTaskRequest.with {
                    $0.taskToken = second.taskToken
                    $0.output = Google_Protobuf_Value(structValue: .init(fields: ["found": .init(numberValue: 3)]))
                })

            let workflow = try await awaitClosed(client, "ext-1")
            #expect(workflow.info.status == .completed)
            #expect(workflow.output.structValue.fields["found"]?.numberValue == 3)
            #expect(workflow.steps.first { $0.name == "research" }?.attempts == 2)
        }
    }

    @Test func anEmptyQueueAnswersEmptyWithinTheDeadline() async throws {
        try await withTestServer { client, _ in
            let reply: Baton_V1_PollActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/PollActivityTask",
                Baton_V1_PollActivityTaskRequest.with { $0.taskQueue = "idle" }, timeout: .seconds(8))
            // An OK, empty answer (not DEADLINE_EXCEEDED): the server answered before the caller's deadline.
            #expect(reply.taskToken.isEmpty)
        }
    }

    @Test func cancelReachesAWorkerThroughItsHeartbeat() async throws {
        try await withTestServer { client, _ in
            let _: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "/baton.v1.WorkflowService/RegisterDefinition",
                Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.definition })
            let _: Baton_V1_StartWorkflowResponse = try await call(
                client, "/baton.v1.WorkflowService/StartWorkflow", Baton_V1_StartWorkflowRequest.with {
                    $0.definition = "external"
                    $0.workflowID = "ext-2"
                })
            let task = try await poll(client)
            let _: Baton_V1_CancelWorkflowResponse = try await call(
                client, "/baton.v1.WorkflowService/CancelWorkflow",
                Baton_V1_CancelWorkflowRequest.with { $0.workflowID = "ext-2" })
            let beat: Baton_V1_RecordHeartbeatResponse = try await call(
                client, "/baton.v1.WorkerService/RecordHeartbeat",
                Baton_V1_RecordHeartbeatRequest.with { $0.taskToken = task.taskToken })
            #expect(beat.cancelRequested)
        }
    }

    @Test func malformedTokensAreInvalidArguments() async throws {
        try await withTestServer { client, _ in
            do {
                let _: Baton_V1_CompleteActivityTaskResponse = try await call(
                    client, "/baton.v1.WorkerService/CompleteActivityTask",
                    Baton_V1_CompleteActivityTaskRequest.with { $0.taskToken = "nope" })
                Issue.record("expected INVALID_ARGUMENT")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("task_token"))
            }
        }
    }
}
