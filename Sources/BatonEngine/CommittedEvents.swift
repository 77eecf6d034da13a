import BatonCore

/// Events of one run that a transaction has just committed, for observers (logs, metrics, traces):
/// what happened, to which run of which definition. A class: observers queue batches and read them on
/// other threads, and passing one on costs one reference count instead of one per field.
public final class CommittedEvents: Sendable {
    /// The run's storage key (the workflow id; see ``RunKey``).
    public let workflowID: String
    /// The run's own id.
    public let runID: String
    /// The definition the run is pinned to.
    public let definition: DefinitionRef
    /// When the run started.
    public let startedAt: Instant?
    /// The events, in order.
    public let events: [WorkflowEvent]
    /// The run's trace (nil in runs recorded before traces existed).
    public let trace: TraceContext?

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
