import BatonProto
import BatonRPC
import BatonServer
import Foundation
import SwiftProtobuf
import Testing

/// Fewer round trips for workers: a completion hands over the next waiting task, and a poll takes
/// several waiting tasks at once (max_tasks).
@Suite(.timeLimit(.minutes(2))) struct WorkerHandOffTests {
    static let sequential = """
        name: handoff
        defaults: { task_queue: hand, heartbeat_timeout: 30s, start_to_close_timeout: 1m }
        steps:
          a: { activity: step.a, input: { n: "${input.n}" } }
          b: { activity: step.b, depends_on: [a], input: { n: "${steps.a.output.n}" } }
        output: { n: "${steps.b.output.n}" }
        """

    private func call<Response: SwiftProtobuf.Message>(
        _ client: RPCClient, _ method: String, _ request: some SwiftProtobuf.Message
    ) async throws -> Response {
        try await client.unary(method, request: request, timeout: .seconds(10))
    }

    private func start(_ client: RPCClient, _ id: String) async throws {
        let _: Baton_V1_StartWorkflowResponse = try await call(
            client, "/baton.v1.WorkflowService/StartWorkflow", Baton_V1_StartWorkflowRequest.with {
                $0.definition = "handoff"
                $0.workflowID = id
                $0.input = .init(structValue: .init(fields: ["n": .init(numberValue: 5)]))
            })
    }

    private func register(_ client: RPCClient) async throws {
        let _: Baton_V1_RegisterDefinitionResponse = try await call(
            client, "/baton.v1.WorkflowService/RegisterDefinition",
            Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.sequential })
    }

    @Test func aCompletionHandsTheWorkerTheNextStepOfTheRun() async throws {
        try await withTestServer { client, _ in
            try await register(client)
            try await start(client, "hand-1")
            let first: Baton_V1_PollActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/PollActivityTask",
                Baton_V1_PollActivityTaskRequest.with { $0.taskQueue = "hand"; $0.workerIdentity = "w" })
            #expect(first.step == "a")
            // The task carries the step's timeouts: a deadline start_to_close from the lease, the heartbeat timeout.
            #expect(first.heartbeatTimeout.seconds == 30)
            let lease = first.deadline.date.timeIntervalSinceNow
            #expect(lease > 50 && lease <= 61, "deadline \(lease) s away")
            let done: Baton_V1_CompleteActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/CompleteActivityTask", Baton_V1_CompleteActivityTaskRequest.with {
                    $0.taskToken = first.taskToken
                    $0.output = .init(structValue: .init(fields: ["n": .init(numberValue: 5)]))
                    $0.nextTaskQueue = "hand"
                    $0.workerIdentity = "w"
                })
            // Step b was scheduled by the committed completion and handed over in the same answer.
            #expect(done.hasNextTask && done.nextTask.step == "b" && done.nextTask.workflowID == "hand-1")
            #expect(done.nextTask.taskToken.count == 32 && done.nextTask.input.structValue.fields["n"]?.numberValue == 5)
            let last: Baton_V1_CompleteActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/CompleteActivityTask", Baton_V1_CompleteActivityTaskRequest.with {
                    $0.taskToken = done.nextTask.taskToken
                    $0.output = .init(structValue: .init(fields: ["n": .init(numberValue: 6)]))
                    $0.nextTaskQueue = "hand"
                })
            #expect(!last.hasNextTask || last.nextTask.taskToken.isEmpty)
            let closed: Baton_V1_AwaitWorkflowResponse = try await call(
                client, "/baton.v1.WorkflowService/AwaitWorkflow", Baton_V1_AwaitWorkflowRequest.with { $0.workflowID = "hand-1" })
            #expect(closed.workflow.info.status == .completed)
            #expect(closed.workflow.output.structValue.fields["n"]?.numberValue == 6)
        }
    }

    @Test func aPollTakesSeveralWaitingTasksAndRefusesAnAbsurdMaximum() async throws {
        try await withTestServer { client, _ in
            try await register(client)
            for index in 0..<3 { try await start(client, "many-\(index)") }
            let polled: Baton_V1_PollActivityTaskResponse = try await call(
                client, "/baton.v1.WorkerService/PollActivityTask",
                Baton_V1_PollActivityTaskRequest.with { $0.taskQueue = "hand"; $0.maxTasks = 10 })
            let all = [polled] + polled.additionalTasks
            #expect(all.count == 3)
            #expect(Set(all.map(\.workflowID)) == ["many-0", "many-1", "many-2"])
            #expect(Set(all.map(\.taskToken)).count == 3)
            #expect(all.allSatisfy { $0.step == "a" })
            #expect(polled.additionalTasks.allSatisfy { $0.additionalTasks.isEmpty })
            do {
                let _: Baton_V1_PollActivityTaskResponse = try await call(
                    client, "/baton.v1.WorkerService/PollActivityTask",
                    Baton_V1_PollActivityTaskRequest.with { $0.taskQueue = "hand"; $0.maxTasks = 101 })
                Issue.record("max_tasks 101 was accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains("max_tasks"))
            }
        }
    }
}
