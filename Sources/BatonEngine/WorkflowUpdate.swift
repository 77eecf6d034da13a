import BatonCore

/// One item of a workflow subscription: the snapshot first, then one per batch of committed changes.
public struct WorkflowUpdate: Hashable, Sendable {
    /// Whether this is the initial snapshot or a later change.
    public enum Kind: String, Hashable, Sendable {
        /// The first item: progress and state as of subscribing, with the events missed since the resume point.
        case snapshot
        /// Events committed since the previous item, with the latest progress and state.
        case change
    }

    /// Snapshot or change.
    public var kind: Kind
    /// History events, in order and without gaps: for the snapshot those after the requested event id
    /// (read from the store), for a change those committed since the previous item.
    public var events: [WorkflowEvent]
    /// Progress at the latest known state (coalesced: a slow reader sees the newest, not every step).
    public var progress: WorkflowProgress
    /// The latest known state.
    public var state: WorkflowState

    /// Creates an update.
    public init(kind: Kind, events: [WorkflowEvent], progress: WorkflowProgress, state: WorkflowState) {
        self.kind = kind
        self.events = events
        self.progress = progress
        self.state = state
    }
}
