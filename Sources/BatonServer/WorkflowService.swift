import BatonCodec
import BatonCore
import Foundation
import BatonEngine
import BatonProto
import BatonRPC
import SwiftProtobuf

/// `baton.v1.WorkflowService` over a `WorkflowRuntime`: validates each request (errors name the
/// field), calls the engine, and maps domain errors to gRPC statuses in one place.
struct WorkflowService: Sendable {
    /// The service's fully-qualified name.
    static let name = "baton.v1.WorkflowService"

    let runtime: WorkflowRuntime
    /// History pages (read, decode, map, size) run through this gate: a flood of GetHistory calls
    /// waits its turn fairly instead of materializing every page at once.
    let costlyReads: FairWorkGate
    /// Every progress stream of a run, whatever its protocol, is fed by one subscription.
    let progressFanout: ProgressFanout
    /// Live streams per run, bounded by `subscribers_per_run`.
    let runStreams: RunStreamLimiter
    /// With an auth file: who a call's token is (stream tickets carry it).
    var authenticator: Authenticator?
    /// Tickets for the HTTP event streams (``StreamTickets``).
    let tickets = StreamTickets()

    /// The service over `runtime`, with history pages bounded to `costlyReads`.
    init(runtime: WorkflowRuntime,
         costlyReads: FairWorkGate = FairWorkGate(permits: max(2, ProcessInfo.processInfo.activeProcessorCount))) {
        self.runtime = runtime
        self.costlyReads = costlyReads
        progressFanout = ProgressFanout(runtime: runtime)
        runStreams = RunStreamLimiter(limit: runtime.limits.subscribersPerRun)
    }

    /// Registers every method of the service.
    func register(into router: inout RPCRouter) {
        let path = { (method: String) in "/\(Self.name)/\(method)" }
        router.register(path("RegisterDefinition"), .unary(registerDefinition))
        router.register(path("GetDefinition"), .unary(getDefinition).sideEffectFree())
        router.register(path("ListDefinitions"), .unary(listDefinitions).sideEffectFree())
        router.register(path("ListWorkflows"), .unary(listWorkflows).sideEffectFree())
        router.register(path("StartWorkflow"), .unary(startWorkflow))
        router.register(path("Signal"), .unary(signal))
        router.register(path("Query"), .unary(query).sideEffectFree())
        router.register(path("StreamProgress"), .serverStreaming(streamProgress))
        router.register(path("WatchHistory"), .serverStreaming(watchHistory))
        router.register(path("DescribeWorkflow"), .unary(describeWorkflow).sideEffectFree())
        router.register(path("GetHistory"), .unary(getHistory).sideEffectFree())
        router.register(path("CancelWorkflow"), .unary(cancelWorkflow))
        router.register(path("TerminateWorkflow"), .unary(terminateWorkflow))
        router.register(path("AwaitWorkflow"), .unary(awaitWorkflow).sideEffectFree())
        router.register(path("IssueStreamTicket"), .unary(issueStreamTicket))
    }

    // MARK: - Definitions

    func registerDefinition(_ request: Baton_V1_RegisterDefinitionRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_RegisterDefinitionResponse {
        let source: String
        switch request.definition {
        case .source(let text):
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw RPCError(code: .invalidArgument, message: "source: the definition text is empty")
            }
            source = text
        case .structured(let object):
            source = JSONValue(proto: object).canonicalText
        case nil:
            throw RPCError(code: .invalidArgument, message: "definition: give either source (YAML/JSON text) or structured")
        }
        // Parsing and validating a large definition is CPU work: it runs on the global executor, never
        // on the connection's event loop (which would stall every other call on that loop).
        let runtime = self.runtime
        let registration = try await mappingErrors {
            try await withTaskExecutorPreference(globalConcurrentExecutor) {
                try await runtime.registerDefinition(source: source)
            }
        }
        return .with {
            $0.definition = .with { $0.name = registration.ref.name; $0.version = Int32(registration.ref.version) }
            $0.created = registration.created
        }
    }

    func getDefinition(_ request: Baton_V1_GetDefinitionRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_GetDefinitionResponse {
        try Validate.name(request.name, field: "name")
        guard request.version >= 0 else {
            throw RPCError(code: .invalidArgument, message: "version: must be 0 (latest) or a positive version")
        }
        let records = try await mappingErrors { try await runtime.registry.records(request.name) }
        let wanted = request.version == 0 ? records.last : records.first { $0.version == Int(request.version) }
        guard let record = wanted else {
            let what = request.version == 0 ? "'\(request.name)'" : "'\(request.name)' version \(request.version)"
            throw RPCError(code: .notFound, message: "no definition \(what)")
        }
        return .with {
            $0.definition = .with { $0.name = record.name; $0.version = Int32(record.version) }
            $0.source = record.source
            $0.createTime = record.createdAt.proto
        }
    }

    // MARK: - Runs

    func startWorkflow(_ request: Baton_V1_StartWorkflowRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_StartWorkflowResponse {
        try Validate.name(request.definition, field: "definition")
        if !request.workflowID.isEmpty { try Validate.workflowID(request.workflowID, limits: runtime.limits) }
        guard request.version >= 0 else {
            throw RPCError(code: .invalidArgument, message: "version: must be 0 (latest) or a positive version")
        }
        let policy: IDReusePolicy
        switch request.idReusePolicy {
        case .reject: policy = .reject
        case .allowAfterClose, .unspecified: policy = .allowAfterClose
        case .returnExisting: policy = .returnExisting
        case .UNRECOGNIZED(let value):
            throw RPCError(code: .invalidArgument, message: "id_reuse_policy: unknown value \(value)")
        }
        let input = request.hasInput ? JSONValue(proto: request.input) : .null
        try Validate.value(input, field: "input", limits: runtime.limits)
        let run = try await mappingErrors {
            try await runtime.startWorkflow(
                request.definition, version: request.version == 0 ? nil : Int(request.version),
                workflowID: request.workflowID.isEmpty ? nil : request.workflowID, input: input, policy: policy,
                traceParent: context.requestMetadata["traceparent"].flatMap(TraceParent.init))
        }
        return .with {
            $0.workflowID = run.id
            $0.runID = run.runID
            $0.previousRunID = run.previousRunID ?? ""
            $0.started = run.started
            $0.definition = .with {
                $0.name = run.definition.name
                $0.version = Int32(run.definition.version)
            }
        }
    }

    func signal(_ request: Baton_V1_SignalRequest, _ context: ServerCallContext) async throws -> Baton_V1_SignalResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        try Validate.name(request.name, field: "name")
        let payload = request.hasPayload ? JSONValue(proto: request.payload) : .null
        try Validate.value(payload, field: "payload", limits: runtime.limits)
        let requestID = request.requestID.isEmpty ? nil : request.requestID
        let key = try await runKey(request.workflowID, request.runID)
        // A repeated request_id is ignored by the engine (decided on the workflow's shard): say so.
        let recorded = try await mappingErrors {
            try await runtime.signal(key, name: request.name, payload: payload, requestID: requestID,
                                     runID: request.runID.isEmpty ? nil : request.runID)
        }
        return .with { $0.accepted = recorded }
    }

    func describeWorkflow(_ request: Baton_V1_DescribeWorkflowRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_DescribeWorkflowResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        // A large run's description is built on the global executor, never on the connection's event loop.
        let key = try await runKey(request.workflowID, request.runID)
        let description = try await mappingErrors { try await runtime.describe(key) }
        let workflow = await protoDescription(description)
        return .with { $0.workflow = workflow }
    }

    /// A ticket for the event streams standing for the caller's token (empty on an open server).
    func issueStreamTicket(_ request: Baton_V1_IssueStreamTicketRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_IssueStreamTicketResponse {
        guard let authenticator else { return Baton_V1_IssueStreamTicketResponse() }
        let token = try authenticator.authenticate(context.requestMetadata["authorization"]).get()
        let (ticket, expires) = try tickets.issue(for: token)
        return .with {
            $0.ticket = ticket
            $0.expireTime = Google_Protobuf_Timestamp(date: expires)
        }
    }

    func awaitWorkflow(_ request: Baton_V1_AwaitWorkflowRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_AwaitWorkflowResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        let key = try await runKey(request.workflowID, request.runID)
        // Waits on the run's shard for its closing commit; the call's deadline cancels the wait (the
        // transport answers DEADLINE_EXCEEDED) and leaves nothing behind.
        let closed = try await mappingErrors { try await runtime.awaitCompletion(key) }
        let workflow = await protoDescription(closed)
        return .with { $0.workflow = workflow }
    }

    /// The API's description of a run, built on the global executor (a large run's description is
    /// CPU work that must not stall the connection's event loop).
    private func protoDescription(_ description: WorkflowDescription) async -> Baton_V1_WorkflowDescription {
        let runtime = self.runtime
        return await withTaskExecutorPreference(globalConcurrentExecutor) {
            let definition = try? await runtime.registry.definition(
                named: description.definition.name, version: description.definition.version).0
            return description.state.protoDescription(definition: definition)
        }
    }

    func getHistory(_ request: Baton_V1_GetHistoryRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_GetHistoryResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        guard (0...1000).contains(request.pageSize) else {
            throw RPCError(code: .invalidArgument, message: "page_size: must be between 1 and 1000 (0: default 100)")
        }
        let pageSize = request.pageSize == 0 ? 100 : Int(request.pageSize)
        let key = try await runKey(request.workflowID, request.runID)
        let after = try PageToken.decodeEventID(request.pageToken, workflowID: key)
        let events = try await costlyReads.run(context) {
            try await mappingErrors { try await runtime.history(key, afterEventID: after, limit: pageSize) }
        }
        if events.isEmpty, request.hasWait,
           try await !mappingErrors({ try await runtime.describe(key) }).status.isClosed {
            // Waiting for new events holds no slot of the gate.
            let wait = request.wait
            let deadline = ContinuousClock.now + .seconds(wait.seconds) + .nanoseconds(wait.nanos)
            let limit = context.deadline.map { min($0, deadline) } ?? deadline
            let arrived = try await mappingErrors {
                try await runtime.history(key, afterEventID: after, limit: pageSize, waitingUntil: limit)
            }
            return try await costlyReads.run(context) { try await historyPage(key, arrived, after: after) }
        }
        return try await costlyReads.run(context) { try await historyPage(key, events, after: after) }
    }

    /// The response of one page of `events` (which follow event `after`) of the run stored under `key`.
    private func historyPage(_ key: String, _ events: [WorkflowEvent], after: Int64) async throws
        -> Baton_V1_GetHistoryResponse {
        // A page also ends before it would pass `maxHistoryPageBytes` (at least one event), so every
        // page fits a client's default 4 MiB message limit whatever the run's values are.
        var page: [Baton_V1_HistoryEvent] = []
        var bytes = 0
        for event in events {
            let message = event.proto
            let size = ((try? message.serializedBytes()) as [UInt8]?)?.count ?? 0
            if !page.isEmpty, bytes + size > Self.maxHistoryPageBytes { break }
            page.append(message)
            bytes += size
        }
        let last = page.last?.eventID ?? after
        let closed = try await mappingErrors { try await runtime.describe(key) }
        let finished = closed.status.isClosed && last >= closed.state.lastEventID
        return .with {
            $0.events = page
            $0.nextPageToken = finished ? "" : PageToken.encode(eventID: last, workflowID: key)
        }
    }

    /// The most bytes of events one GetHistory page carries (a page has at least one event).
    static let maxHistoryPageBytes = 2 * 1024 * 1024

    /// The storage key of the run a request names by `workflowID` and an optional `runID`
    /// (``WorkflowRuntime/runKey(_:runID:)``).
    func runKey(_ workflowID: String, _ runID: String) async throws -> String {
        try await mappingErrors { try await runtime.runKey(workflowID, runID: runID) }
    }

    func cancelWorkflow(_ request: Baton_V1_CancelWorkflowRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_CancelWorkflowResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        let key = try await runKey(request.workflowID, request.runID)
        try await mappingErrors {
            try await runtime.cancel(key, reason: request.reason.isEmpty ? "cancelled via API" : request.reason,
                                     runID: request.runID.isEmpty ? nil : request.runID)
        }
        return .init()
    }

    func terminateWorkflow(_ request: Baton_V1_TerminateWorkflowRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_TerminateWorkflowResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        let key = try await runKey(request.workflowID, request.runID)
        try await mappingErrors {
            try await runtime.terminate(key, reason: request.reason.isEmpty ? "terminated via API" : request.reason,
                                        runID: request.runID.isEmpty ? nil : request.runID)
        }
        return .init()
    }
}
