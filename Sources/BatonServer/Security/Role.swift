/// What a token may do. Health checks are open to everyone; everything else needs a token.
public enum Role: String, Sendable, CaseIterable {
    /// Read runs and definitions: describe, query, list, history, progress and history streams, await.
    case reader
    /// A reader that also registers definitions and starts, signals, cancels and terminates runs.
    case `operator`
    /// Polls, completes, fails and heartbeats activity tasks (on its task queues).
    case worker
    /// Everything, including circuit breakers and server information.
    case admin

    /// WorkflowService methods a reader may call.
    static let readMethods: Set<String> = [
        "GetDefinition", "ListDefinitions", "Query", "StreamProgress", "DescribeWorkflow", "GetHistory",
        "WatchHistory", "ListWorkflows", "AwaitWorkflow", "IssueStreamTicket",
    ]
    /// WorkflowService methods an operator may call besides the reader's.
    static let operateMethods: Set<String> = [
        "RegisterDefinition", "StartWorkflow", "Signal", "CancelWorkflow", "TerminateWorkflow",
    ]

    /// Whether this role may call `service`'s `method`.
    public func allows(service: String, method: String) -> Bool {
        // Reflection and the interop test service only describe the API: any token may use them.
        if service.hasPrefix("grpc.reflection.") || service == "grpc.testing.TestService" { return true }
        switch (self, service) {
        case (.admin, _):
            return true
        case (.reader, "baton.v1.WorkflowService"):
            return Self.readMethods.contains(method)
        case (.operator, "baton.v1.WorkflowService"):
            return Self.readMethods.contains(method) || Self.operateMethods.contains(method)
        case (.worker, "baton.v1.WorkerService"):
            return true
        case (.reader, _), (.operator, _), (.worker, _):
            return false
        }
    }

    /// Whether this role may read runs over the HTTP routes (`/metrics`, the event streams).
    public var readsRuns: Bool { self != .worker }
}
