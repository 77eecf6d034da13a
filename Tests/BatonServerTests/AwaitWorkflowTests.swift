import BatonProto
import BatonRPC
import BatonServer
import Testing

/// AwaitWorkflow: one unary call that answers when the run closes, bounded by the call's deadline.
@Suite(.timeLimit(.minutes(2))) struct AwaitWorkflowTests {
    static let path = "/baton.v1.WorkflowService/AwaitWorkflow"
    static let gated = """
        name: gated_await
        steps:
          first: { activity: builtin.echo, input: { x: 1 } }
          approval: { wait_for_signal: { name: go }, depends_on: [first] }
          last: { activity: builtin.echo, depends_on: [approval], input: { ok: "${steps.approval.signal.ok}" } }
        output: { ok: "${steps.last.output.ok}" }
        """

    private func start(_ client: RPCClient, id: String) async throws -> Baton_V1_StartWorkflowResponse {
        let _: Baton_V1_RegisterDefinitionResponse = try await client.unary(
            "/baton.v1.WorkflowService/RegisterDefinition",
            request: Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.gated }, timeout: .seconds(30))
        return try await client.unary(
            "/baton.v1.WorkflowService/StartWorkflow",
            request: Baton_V1_StartWorkflowRequest.with { $0.definition = "gated_await"; $0.workflowID = id },
            timeout: .seconds(30))
    }

    private func await_(_ client: RPCClient, _ id: String, runID: String = "", timeout: Duration?) async throws
        -> Baton_V1_AwaitWorkflowResponse {
        try await client.unary(Self.path, request: Baton_V1_AwaitWorkflowRequest.with {
            $0.workflowID = id
            $0.runID = runID
        }, timeout: timeout)
    }

    @Test func anOpenRunIsDeadlineExceededAndTheAbandonedWaitLeavesNothingBehind() async throws {
        try await withTestServer { client, app in
            _ = try await start(client, id: "await-open")
            do {
                _ = try await await_(client, "await-open", timeout: .milliseconds(300))
                Issue.record("an open run was answered before its deadline")
            } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded, "\(error)")
            }
            // The server dropped the waiter when the deadline cancelled the call.
            let deadline = ContinuousClock.now + .seconds(10)
            var waiting = await app.runtime.awaitingCount()
            while waiting > 0, ContinuousClock.now < deadline {
                await Task.yield()
                waiting = await app.runtime.awaitingCount()
            }
            #expect(waiting == 0)
        }
    }

    @Test func theCallAnswersWhenTheRunClosesWithItsOutput() async throws {
        try await withTestServer { client, app in
            let started = try await start(client, id: "await-close")
            async let closed = await_(client, "await-close", timeout: .seconds(60))
            // Signal once the await is registered on the run's shard (an event, not a sleep).
            let deadline = ContinuousClock.now + .seconds(30)
            while await app.runtime.awaitingCount() == 0, ContinuousClock.now < deadline { await Task.yield() }
            let _: Baton_V1_SignalResponse = try await client.unary(
                "/baton.v1.WorkflowService/Signal", request: Baton_V1_SignalRequest.with {
                    $0.workflowID = "await-close"
                    $0.name = "go"
                    $0.payload = .init(structValue: .init(fields: ["ok": .init(boolValue: true)]))
                }, timeout: .seconds(30))
            let workflow = try await closed.workflow
            #expect(workflow.info.status == .completed)
            #expect(workflow.info.runID == started.runID)
            #expect(workflow.output.structValue.fields["ok"]?.boolValue == true)
            #expect(workflow.steps.map(\.status) == [.completed, .completed, .completed])
            // A closed run answers at once, also by its run id; unknown ids are NOT_FOUND.
            let again = try await await_(client, "await-close", runID: started.runID, timeout: .seconds(5))
            #expect(again.workflow.info.status == .completed)
            do {
                _ = try await await_(client, "await-nobody", timeout: .seconds(5))
                Issue.record("an unknown run was awaited")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
                #expect(error.message.contains("await-nobody"))
            }
        }
    }
}
