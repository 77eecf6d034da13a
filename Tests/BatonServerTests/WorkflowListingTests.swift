import BatonProto
import BatonRPC
import BatonServer
import Foundation
import SwiftProtobuf
import Testing

/// Listing, restart and SQLite-backed behaviour of WorkflowService.
@Suite(.timeLimit(.minutes(5))) struct WorkflowListingTests {
    static let service = "/baton.v1.WorkflowService/"
    static let approval = """
        name: approval
        steps:
          prepare: { activity: builtin.echo, input: { item: "${input.item}" } }
          approve:
            depends_on: [prepare]
            wait_for_signal: { name: approve, timeout: 1h, on_timeout: fail }
        output: { approved: "${steps.approve.signal.ok}" }
        """

    private func call<Response: SwiftProtobuf.Message>(_ client: RPCClient, _ method: String,
                                                       _ request: some SwiftProtobuf.Message) async throws -> Response {
        try await client.unary(Self.service + method, request: request)
    }

    private func status(_ client: RPCClient, _ id: String) async throws -> Baton_V1_WorkflowStatus {
        let reply: Baton_V1_DescribeWorkflowResponse = try await call(
            client, "DescribeWorkflow", Baton_V1_DescribeWorkflowRequest.with { $0.workflowID = id })
        return reply.workflow.info.status
    }

    private func start(_ client: RPCClient, _ id: String) async throws {
        let _: Baton_V1_StartWorkflowResponse = try await call(client, "StartWorkflow", Baton_V1_StartWorkflowRequest.with {
            $0.definition = "approval"
            $0.workflowID = id
            $0.input = Google_Protobuf_Value(structValue: .init(fields: ["item": .init(stringValue: id)]))
        })
    }

    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "baton-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [false, true])
    func listsDefinitionsAndPagesThroughRunsWithFilters(sqlite: Bool) async throws {
        let directory = sqlite ? temporaryDirectory() : nil
        defer { if let directory { try? FileManager.default.removeItem(atPath: directory) } }
        try await withTestServer(dataDirectory: directory) { client, _ in
            let _: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.approval })
            let _: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest.with {
                    $0.source = Self.approval.replacingOccurrences(of: "1h", with: "2h")
                })
            let definitions: Baton_V1_ListDefinitionsResponse = try await call(
                client, "ListDefinitions", Baton_V1_ListDefinitionsRequest())
            #expect(definitions.definitions.map { "\($0.name)@\($0.version)" } == ["approval@2"])

            for index in 0..<5 {
                try await start(client, "run-\(index)")
                try await Task.sleep(for: .milliseconds(3))  // distinct start times
            }
            let _: Baton_V1_TerminateWorkflowResponse = try await call(
                client, "TerminateWorkflow", Baton_V1_TerminateWorkflowRequest.with { $0.workflowID = "run-1" })

            var seen: [String] = []
            var token = ""
            repeat {
                let page: Baton_V1_ListWorkflowsResponse = try await call(client, "ListWorkflows", Baton_V1_ListWorkflowsRequest.with {
                    $0.pageSize = 2
                    $0.pageToken = token
                })
                #expect(page.workflows.count <= 2)
                seen += page.workflows.map(\.workflowID)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(seen == ["run-4", "run-3", "run-2", "run-1", "run-0"])

            let running: Baton_V1_ListWorkflowsResponse = try await call(
                client, "ListWorkflows", Baton_V1_ListWorkflowsRequest.with { $0.status = .running })
            #expect(running.workflows.map(\.workflowID) == ["run-4", "run-3", "run-2", "run-0"])
            let terminated: Baton_V1_ListWorkflowsResponse = try await call(
                client, "ListWorkflows", Baton_V1_ListWorkflowsRequest.with { $0.status = .terminated })
            #expect(terminated.workflows.map(\.workflowID) == ["run-1"])
            let none: Baton_V1_ListWorkflowsResponse = try await call(
                client, "ListWorkflows", Baton_V1_ListWorkflowsRequest.with { $0.definition = "other" })
            #expect(none.workflows.isEmpty)

            // A token is bound to its filters.
            let first: Baton_V1_ListWorkflowsResponse = try await call(
                client, "ListWorkflows", Baton_V1_ListWorkflowsRequest.with { $0.pageSize = 1 })
            do {
                let _: Baton_V1_ListWorkflowsResponse = try await call(client, "ListWorkflows", Baton_V1_ListWorkflowsRequest.with {
                    $0.pageToken = first.nextPageToken
                    $0.status = .running
                })
                Issue.record("expected INVALID_ARGUMENT")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("page_token"))
            }
        }
    }

    @Test func aRestartKeepsEveryStartedWorkflow() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withTestServer(dataDirectory: directory) { client, _ in
            let _: Baton_V1_RegisterDefinitionResponse = try await call(
                client, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest.with { $0.source = Self.approval })
            for index in 0..<3 { try await start(client, "keep-\(index)") }
        }
        // A new server on the same data directory.
        try await withTestServer(dataDirectory: directory) { client, _ in
            for index in 0..<3 {
                #expect(try await status(client, "keep-\(index)") == .running)
                let _: Baton_V1_SignalResponse = try await call(client, "Signal", Baton_V1_SignalRequest.with {
                    $0.workflowID = "keep-\(index)"
                    $0.name = "approve"
                    $0.payload = Google_Protobuf_Value(structValue: .init(fields: ["ok": .init(boolValue: true)]))
                })
            }
            for index in 0..<3 {
                let current = try await awaitClosed(client, "keep-\(index)").info.status
                #expect(current == .completed)
            }
        }
    }
}
