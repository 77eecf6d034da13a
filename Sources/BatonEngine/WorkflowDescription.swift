import BatonCore

/// A workflow's status and state, as returned by describe and awaitCompletion.
public struct WorkflowDescription: Hashable, Sendable {
    /// The full state (snapshot).
    public var state: WorkflowState

    /// Creates a description.
    public init(state: WorkflowState) { self.state = state }

    /// The run's id.
    public var workflowID: String { state.workflowID }
    /// The lifecycle status.
    public var status: WorkflowStatus { state.status }
    /// The pinned definition.
    public var definition: DefinitionRef { DefinitionRef(name: state.definitionName, version: state.definitionVersion) }
}
