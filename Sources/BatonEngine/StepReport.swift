/// What a step is, as every reader reports it — describe, the `steps` and `state` queries, the CLI,
/// the UI: one vocabulary, and true after the run closed. A completed step whose compensation ran
/// is `compensated`; an attempt, wait or backoff that a cancel or terminate cut short is `cancelled`
/// (it will not run again) instead of `running` forever.
public enum StepReport: String, Hashable, Sendable, CaseIterable {
    /// Waiting for its dependencies (or never reached).
    case pending
    /// An attempt is scheduled or running, or the step waits for a signal or a timer.
    case running
    /// Waiting for the backoff before the next attempt.
    case retrying
    /// Completed with an output.
    case completed
    /// Failed for good.
    case failed
    /// Skipped: its `when` was false.
    case skipped
    /// Completed, then compensated by the saga.
    case compensated
    /// Was running, waiting or backing off when the run was cancelled or terminated.
    case cancelled
}

extension WorkflowState {
    /// How step `name` is reported (see ``StepReport``).
    public func report(ofStep name: String) -> StepReport {
        if saga?.compensated.contains(name) == true { return .compensated }
        switch step(name).status {
        case .pending: return .pending
        case .scheduled, .started: return status.isClosed ? .cancelled : .running
        case .backoff: return status.isClosed ? .cancelled : .retrying
        case .completed: return .completed
        case .failed: return .failed
        case .skipped: return .skipped
        }
    }
}
