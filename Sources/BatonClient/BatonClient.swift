import BatonProto
import BatonRPC
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf

/// A typed client for Baton's API (`baton.v1.WorkflowService`, `WorkerService`, `AdminService`)
/// over the nghttp2 client session. It connects lazily and reconnects after a lost connection.
///
/// ```swift
/// let baton = BatonClient(host: "127.0.0.1", port: 7400)
/// let ref = try await baton.registerDefinition(source: yaml)
/// let run = try await baton.startWorkflow(.with { $0.definition = ref.name })
/// for try await progress in baton.streamProgress(run.workflowID) { print(progress.percentage) }
/// ```
public final class BatonClient: Sendable {
    /// The underlying gRPC client.
    public let rpc: RPCClient
    /// Deadline applied to unary calls without one of their own.
    public let defaultTimeout: Duration

    /// Creates a client for `host:port` (nothing connects until the first call).
    public init(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                defaultTimeout: Duration = .seconds(30), tls: NIOSSLContext? = nil, token: String? = nil) {
        var metadata = Metadata()
        if let token { metadata.add("authorization", "Bearer \(token)") }
        self.rpc = RPCClient(host: host, port: port, group: group, tls: tls, metadata: metadata)
        self.defaultTimeout = defaultTimeout
    }

    /// Closes the connection.
    public func close() async { await rpc.close() }

    func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ service: String, _ method: String, _ request: Request, timeout: Duration? = nil
    ) async throws -> Response {
        try await rpc.unary("/\(service)/\(method)", request: request, timeout: timeout ?? defaultTimeout)
    }

    func serverStream<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ service: String, _ method: String, _ request: Request, as type: Response.Type
    ) -> AsyncThrowingStream<Response, any Error> {
        let rpc = self.rpc
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let call = try await rpc.makeCall("/\(service)/\(method)")
                    try await withTaskCancellationHandler {
                        try await call.send(request)
                        await call.finishSending()
                        for try await message in call.messages(as: Response.self) { continuation.yield(message) }
                        continuation.finish()
                    } onCancel: {
                        call.cancel()
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension BatonClient {
    static let workflows = "baton.v1.WorkflowService"
    static let workers = "baton.v1.WorkerService"
    static let admin = "baton.v1.AdminService"

    /// Registers a definition from YAML or JSON text.
    public func registerDefinition(source: String) async throws -> Baton_V1_RegisterDefinitionResponse {
        try await unary(Self.workflows, "RegisterDefinition", Baton_V1_RegisterDefinitionRequest.with { $0.source = source })
    }

    /// One version of a definition (the latest for version 0).
    public func getDefinition(_ name: String, version: Int32 = 0) async throws -> Baton_V1_GetDefinitionResponse {
        try await unary(Self.workflows, "GetDefinition", Baton_V1_GetDefinitionRequest.with {
            $0.name = name
            $0.version = version
        })
    }

    /// Every definition with its latest version.
    public func listDefinitions() async throws -> Baton_V1_ListDefinitionsResponse {
        try await unary(Self.workflows, "ListDefinitions", Baton_V1_ListDefinitionsRequest())
    }

    /// Starts a run.
    public func startWorkflow(_ request: Baton_V1_StartWorkflowRequest) async throws -> Baton_V1_StartWorkflowResponse {
        try await unary(Self.workflows, "StartWorkflow", request)
    }

    /// Sends a signal.
    public func signal(_ request: Baton_V1_SignalRequest) async throws -> Baton_V1_SignalResponse {
        try await unary(Self.workflows, "Signal", request)
    }

    /// Runs a query ("progress", "state", "steps", "output" or a named one) on the latest run of
    /// `workflowID`, or on the run `runID`.
    public func query(_ workflowID: String, _ query: String, runID: String = "") async throws -> Baton_V1_QueryResponse {
        try await unary(Self.workflows, "Query", Baton_V1_QueryRequest.with {
            $0.workflowID = workflowID
            $0.query = query
            $0.runID = runID
        })
    }

    /// Describes the latest run of `workflowID`, or the run `runID`.
    public func describe(_ workflowID: String, runID: String = "") async throws -> Baton_V1_DescribeWorkflowResponse {
        try await unary(Self.workflows, "DescribeWorkflow", Baton_V1_DescribeWorkflowRequest.with {
            $0.workflowID = workflowID
            $0.runID = runID
        })
    }

    /// One page of a run's history.
    public func history(_ request: Baton_V1_GetHistoryRequest) async throws -> Baton_V1_GetHistoryResponse {
        try await unary(Self.workflows, "GetHistory", request)
    }

    /// Lists runs.
    public func listWorkflows(_ request: Baton_V1_ListWorkflowsRequest) async throws -> Baton_V1_ListWorkflowsResponse {
        try await unary(Self.workflows, "ListWorkflows", request)
    }

    /// Requests cancellation of the latest run of `workflowID` (only of the run `runID` when given).
    public func cancel(_ workflowID: String, reason: String = "", runID: String = "") async throws {
        let _: Baton_V1_CancelWorkflowResponse = try await unary(Self.workflows, "CancelWorkflow",
            Baton_V1_CancelWorkflowRequest.with { $0.workflowID = workflowID; $0.reason = reason; $0.runID = runID })
    }

    /// Terminates the latest run of `workflowID` (only the run `runID` when given).
    public func terminate(_ workflowID: String, reason: String = "", runID: String = "") async throws {
        let _: Baton_V1_TerminateWorkflowResponse = try await unary(Self.workflows, "TerminateWorkflow",
            Baton_V1_TerminateWorkflowRequest.with { $0.workflowID = workflowID; $0.reason = reason; $0.runID = runID })
    }

    /// Live progress: a snapshot, then every change, ending when the run closes.
    public func streamProgress(
        _ workflowID: String, afterEventID: Int64 = 0, runID: String = ""
    ) -> AsyncThrowingStream<Baton_V1_Progress, any Error> {
        serverStream(Self.workflows, "StreamProgress", Baton_V1_StreamProgressRequest.with {
            $0.workflowID = workflowID
            $0.afterEventID = afterEventID
            $0.runID = runID
        }, as: Baton_V1_Progress.self)
    }

    /// The run's history from an event id, then each new event, ending after the closing one.
    public func watchHistory(
        _ workflowID: String, afterEventID: Int64 = 0, runID: String = ""
    ) -> AsyncThrowingStream<Baton_V1_HistoryEvent, any Error> {
        serverStream(Self.workflows, "WatchHistory", Baton_V1_WatchHistoryRequest.with {
            $0.workflowID = workflowID
            $0.afterEventID = afterEventID
            $0.runID = runID
        }, as: Baton_V1_HistoryEvent.self)
    }

    /// Waits until the latest run of `workflowID` (or the run `runID`) closes and returns its
    /// description; DEADLINE_EXCEEDED when it is still open after `timeout`.
    /// With `timeout` nil the call has no deadline and waits as long as the run takes.
    public func awaitWorkflow(
        _ workflowID: String, runID: String = "", timeout: Duration?
    ) async throws -> Baton_V1_AwaitWorkflowResponse {
        let request = Baton_V1_AwaitWorkflowRequest.with {
            $0.workflowID = workflowID
            $0.runID = runID
        }
        return try await rpc.unary("/\(Self.workflows)/AwaitWorkflow", request: request, timeout: timeout)
    }

    /// Every circuit breaker.
    public func listCircuitBreakers() async throws -> Baton_V1_ListCircuitBreakersResponse {
        try await unary(Self.admin, "ListCircuitBreakers", Baton_V1_ListCircuitBreakersRequest())
    }

    /// Server version, uptime, store path and durability.
    public func serverInfo() async throws -> Baton_V1_GetServerInfoResponse {
        try await unary(Self.admin, "GetServerInfo", Baton_V1_GetServerInfoRequest())
    }
}
