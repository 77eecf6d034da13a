import BatonCore

/// A workflow as loaded from the store.
public struct StoredWorkflow: Sendable, Hashable {
    /// The snapshot.
    public var state: WorkflowState

    /// Creates a record.
    public init(state: WorkflowState) { self.state = state }
}

/// A stored run whose rows could not be read back (an undecodable snapshot, a missing definition).
public struct UnreadableWorkflow: Sendable, Hashable {
    /// The run's id.
    public var workflowID: String
    /// The definition name from the run's listing columns, when known.
    public var definitionName: String
    /// The definition version from the run's listing columns, when known.
    public var definitionVersion: Int
    /// What could not be read, and why.
    public var error: String

    /// Creates a record.
    public init(workflowID: String, definitionName: String = "", definitionVersion: Int = 0, error: String) {
        self.workflowID = workflowID
        self.definitionName = definitionName
        self.definitionVersion = definitionVersion
        self.error = error
    }

    /// The description served for the run: status CORRUPTED and the error as its failure.
    public var description: WorkflowDescription {
        var state = WorkflowState(workflowID: workflowID)
        state.definitionName = definitionName
        state.definitionVersion = definitionVersion
        state.status = .corrupted
        state.failure = ActivityFailure(type: "CorruptedRecord", message: error, nonRetryable: true)
        return WorkflowDescription(state: state)
    }
}

/// The open runs found at recovery: the readable ones, and those quarantined because they are not.
public struct OpenWorkflowScan: Sendable {
    /// Runs to resume.
    public var workflows: [StoredWorkflow]
    /// Runs whose rows could not be read; left untouched.
    public var unreadable: [UnreadableWorkflow]

    /// Creates a scan result.
    public init(workflows: [StoredWorkflow], unreadable: [UnreadableWorkflow] = []) {
        self.workflows = workflows
        self.unreadable = unreadable
    }
}
