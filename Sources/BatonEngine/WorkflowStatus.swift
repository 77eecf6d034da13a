/// Lifecycle status of a workflow run.
public enum WorkflowStatus: String, Hashable, Sendable, Codable, CaseIterable {
    /// Steps are running or waiting.
    case running = "RUNNING"
    /// All steps are done; the output is set.
    case completed = "COMPLETED"
    /// A step failed for good (no compensation).
    case failed = "FAILED"
    /// Cancelled on request.
    case cancelled = "CANCELLED"
    /// Terminated at once; nothing more ran.
    case terminated = "TERMINATED"
    /// Failed, and every compensation completed.
    case compensated = "COMPENSATED"
    /// Failed, and a compensation failed too.
    case compensationFailed = "COMPENSATION_FAILED"
    /// Quarantined: the stored snapshot or history could not be read back; nothing runs. Never stored
    /// in a snapshot: a server reports it for runs its recovery could not load.
    case corrupted = "CORRUPTED"

    /// Whether the workflow is over (nothing more will happen).
    public var isClosed: Bool { self != .running }
}
