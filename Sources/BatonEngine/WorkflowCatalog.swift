import BatonCore

/// Read-only listings a store offers the API: runs filtered and paged, and the known definitions.
public protocol WorkflowCatalog: Sendable {
    /// Runs matching `filter`, newest first (start time, then id, descending), strictly after `cursor`.
    func listWorkflows(_ filter: WorkflowListFilter, after cursor: WorkflowListCursor?, limit: Int) async throws(BatonError)
        -> [WorkflowSummary]
    /// Every definition name with its latest version, sorted by name.
    func latestDefinitions() async throws(BatonError) -> [DefinitionRef]
}

/// Which runs `WorkflowCatalog.listWorkflows` returns; `nil` fields match anything.
public struct WorkflowListFilter: Sendable, Hashable {
    /// Only runs in this status.
    public var status: WorkflowStatus?
    /// Only runs of this definition name.
    public var definition: String?
    /// Only runs started at or after this instant.
    public var startedAfter: Instant?
    /// Only runs started before this instant.
    public var startedBefore: Instant?

    /// Creates a filter.
    public init(status: WorkflowStatus? = nil, definition: String? = nil, startedAfter: Instant? = nil,
                startedBefore: Instant? = nil) {
        self.status = status
        self.definition = definition
        self.startedAfter = startedAfter
        self.startedBefore = startedBefore
    }

    /// Whether a run matches.
    public func matches(_ summary: WorkflowSummary) -> Bool {
        if let status, summary.status != status { return false }
        if let definition, summary.definition.name != definition { return false }
        if let startedAfter, summary.startedAt < startedAfter { return false }
        if let startedBefore, summary.startedAt >= startedBefore { return false }
        return true
    }
}

/// A position in the newest-first listing: the last run of the previous page.
public struct WorkflowListCursor: Sendable, Hashable {
    /// The run's start time.
    public var startedAt: Instant
    /// The run's id.
    public var workflowID: String

    /// Creates a cursor.
    public init(startedAt: Instant, workflowID: String) {
        self.startedAt = startedAt
        self.workflowID = workflowID
    }

    /// Whether `summary` comes after this cursor in newest-first order.
    public func precedes(_ summary: WorkflowSummary) -> Bool {
        summary.startedAt < startedAt || (summary.startedAt == startedAt && summary.workflowID < workflowID)
    }
}

/// One run as listed.
public struct WorkflowSummary: Sendable, Hashable {
    /// The run's storage key: the workflow id, or `ID/RUN_ID` for a closed run a newer run replaced
    /// (see ``RunKey``; ``publicWorkflowID`` is the id users see).
    public var workflowID: String
    /// The run's own id.
    public var runID: String
    /// The pinned definition.
    public var definition: DefinitionRef
    /// The lifecycle state.
    public var status: WorkflowStatus
    /// When it started.
    public var startedAt: Instant
    /// When it closed.
    public var closedAt: Instant?
    /// The last event id.
    public var lastEventID: Int64

    /// Creates a summary.
    public init(workflowID: String, runID: String? = nil, definition: DefinitionRef, status: WorkflowStatus,
                startedAt: Instant, closedAt: Instant?, lastEventID: Int64) {
        self.workflowID = workflowID
        self.runID = RunKey.runID(key: workflowID, recorded: runID, startedAt: startedAt)
        self.definition = definition
        self.status = status
        self.startedAt = startedAt
        self.closedAt = closedAt
        self.lastEventID = lastEventID
    }

    /// The summary of a run's state.
    public init(state: WorkflowState) {
        self.init(workflowID: state.workflowID, runID: state.runID,
                  definition: DefinitionRef(name: state.definitionName, version: state.definitionVersion),
                  status: state.status, startedAt: state.startedAt ?? .epoch, closedAt: state.closedAt,
                  lastEventID: state.lastEventID)
    }

    /// The workflow id users see (without an archived run's run id).
    public var publicWorkflowID: String { RunKey.split(workflowID).workflowID }
}
