import BatonCore

/// Events of one run that a transaction has just committed, for observers (logs, metrics, traces):
/// what happened, to which run of which definition.
public struct CommittedEvents: Sendable {
    /// The run's storage key (the workflow id; see ``RunKey``).
    public var workflowID: String
    /// The run's own id.
    public var runID: String
    /// The definition the run is pinned to.
    public var definition: DefinitionRef
    /// When the run started.
    public var startedAt: Instant?
    /// The events, in order.
    public var events: [WorkflowEvent]
    /// The run's trace (nil in runs recorded before traces existed).
    public var trace: TraceContext?

    /// Creates a batch.
    public init(workflowID: String, runID: String, definition: DefinitionRef, startedAt: Instant?, events: [WorkflowEvent],
                trace: TraceContext? = nil) {
        self.trace = trace
        self.workflowID = workflowID
        self.runID = runID
        self.definition = definition
        self.startedAt = startedAt
        self.events = events
    }
}
