/// The answer to ``WorkflowRuntime/startWorkflow(_:version:workflowID:input:policy:)``.
public struct StartedWorkflow: Hashable, Sendable {
    /// The workflow id (generated when none was given).
    public var id: String
    /// The returned run's own id: the new run's when one started, else the existing run's.
    public var runID: String
    /// True when this call started a new run; false when an existing run was returned.
    public var started: Bool
    /// The definition the run is pinned to.
    public var definition: DefinitionRef
    /// When the new run replaced a closed run of the same id, that run's id (still readable by it).
    public var previousRunID: String?

    /// Creates a result.
    public init(id: String, runID: String, started: Bool, definition: DefinitionRef, previousRunID: String? = nil) {
        self.id = id
        self.runID = runID
        self.started = started
        self.definition = definition
        self.previousRunID = previousRunID
    }
}
