import BatonCore

/// A workflow as loaded from the store.
public struct StoredWorkflow: Sendable, Hashable {
    /// The snapshot.
    public var state: WorkflowState

    /// Creates a record.
    public init(state: WorkflowState) { self.state = state }
}
