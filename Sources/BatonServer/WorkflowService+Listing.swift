import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import BatonRPC

extension WorkflowService {
    private var catalog: any WorkflowCatalog {
        get throws(RPCError) {
            guard let catalog = runtime.store as? any WorkflowCatalog else {
                throw RPCError(code: .unimplemented, message: "this store cannot list")
            }
            return catalog
        }
    }

    func listDefinitions(_ request: Baton_V1_ListDefinitionsRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_ListDefinitionsResponse {
        let catalog = try catalog
        let refs = try await mappingErrors { try await catalog.latestDefinitions() }
        return .with {
            $0.definitions = refs.map { ref in .with { $0.name = ref.name; $0.version = Int32(ref.version) } }
        }
    }

    func listWorkflows(_ request: Baton_V1_ListWorkflowsRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_ListWorkflowsResponse {
        try await listPage(request)
    }

    /// A validated page of runs (ListWorkflows, and the first page of the live list stream).
    func listPage(_ request: Baton_V1_ListWorkflowsRequest) async throws -> Baton_V1_ListWorkflowsResponse {
        guard (0...1000).contains(request.pageSize) else {
            throw RPCError(code: .invalidArgument, message: "page_size: must be between 1 and 1000 (0: default 50)")
        }
        var filter = WorkflowListFilter()
        if request.status != .unspecified {
            guard let status = WorkflowStatus(proto: request.status) else {
                throw RPCError(code: .invalidArgument, message: "status: unknown value \(request.status.rawValue)")
            }
            filter.status = status
        }
        if !request.definition.isEmpty {
            try Validate.name(request.definition, field: "definition")
            filter.definition = request.definition
        }
        if request.hasStartedAfter { filter.startedAfter = Instant(proto: request.startedAfter) }
        if request.hasStartedBefore { filter.startedBefore = Instant(proto: request.startedBefore) }
        let scope = "\(filter.status?.rawValue ?? "")|\(filter.definition ?? "")|"
            + "\(filter.startedAfter?.millisecondsSinceEpoch ?? -1)|\(filter.startedBefore?.millisecondsSinceEpoch ?? -1)"
        let cursor = try PageToken.decodeCursor(request.pageToken, scope: scope)
        // Quarantined runs (unreadable at recovery) are listed as CORRUPTED; they live in memory only.
        let quarantined = runtime.quarantinedWorkflows()
        if filter.status == .corrupted {
            return .with {
                $0.workflows = quarantined.values.sorted { $0.workflowID < $1.workflowID }
                    .filter { filter.definition == nil || $0.definitionName == filter.definition }
                    .map { run in
                        .with {
                            $0.workflowID = run.workflowID
                            $0.definition = .with { $0.name = run.definitionName; $0.version = Int32(run.definitionVersion) }
                            $0.status = .corrupted
                        }
                    }
            }
        }
        let pageSize = request.pageSize == 0 ? 50 : Int(request.pageSize)
        let catalog = try catalog
        // One extra row tells whether another page follows.
        let rows = try await mappingErrors { try await catalog.listWorkflows(filter, after: cursor, limit: pageSize + 1) }
        let page = rows.prefix(pageSize)
        return .with {
            $0.workflows = page.map { summary in
                var info = summary.proto
                if quarantined[summary.workflowID] != nil { info.status = .corrupted }
                return info
            }
            if rows.count > pageSize, let last = page.last {
                $0.nextPageToken = PageToken.encode(
                    cursor: WorkflowListCursor(startedAt: last.startedAt, workflowID: last.workflowID), scope: scope)
            }
        }
    }
}

extension WorkflowSummary {
    /// The API's run summary.
    var proto: Baton_V1_WorkflowInfo {
        Baton_V1_WorkflowInfo.with {
            $0.workflowID = publicWorkflowID
            $0.runID = runID
            $0.definition = .with { $0.name = definition.name; $0.version = Int32(definition.version) }
            $0.status = status.proto
            $0.startTime = startedAt.proto
            if let closedAt { $0.closeTime = closedAt.proto }
            $0.lastEventID = lastEventID
        }
    }
}
