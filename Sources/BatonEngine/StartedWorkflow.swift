/// The answer to ``WorkflowRuntime/startWorkflow(_:version:workflowID:input:policy:)``.
public struct StartedWorkflow: Hashable, Sendable {
    /// The workflow id (generated when none was given).
    public var id: String
    /// True when this call started a new run; false when an existing run was returned.
    public var started: Bool
    /// The definition the run is pinned to.
    public var definition: DefinitionRef

    /// Creates a result.
    public init(id: String, started: Bool, definition: DefinitionRef) {
        self.id = id
        self.started = started
        self.definition = definition
    }
}
