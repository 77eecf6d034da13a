import BatonCore

/// Where a workflow run stands: what the `progress` query answers and what progress streams push.
///
/// ```swift
/// let progress = try await runtime.progress(id)
/// print("\(Int(progress.percentage))% \(progress.currentPhase ?? "-") eta \(progress.eta.map { "\($0)" } ?? "?")")
/// ```
public struct WorkflowProgress: Hashable, Sendable {
    /// The run's id.
    public var workflowID: String
    /// Lifecycle status.
    public var status: WorkflowStatus
    /// True while the saga runs compensations (status is still RUNNING).
    public var compensating: Bool
    /// Weighted share of done (completed or skipped) steps, 0…100 (100 once completed).
    public var percentage: Double
    /// The `phase` of the first running step (else of the next step to run); `nil` when none or closed.
    public var currentPhase: String?
    /// Steps with an attempt scheduled, started or backing off, or a wait/sleep in progress.
    public var running: [String]
    /// Completed steps, in completion order.
    public var completed: [String]
    /// Steps that failed for good (including ones abandoned by a cancel or a failure elsewhere).
    public var failed: [String]
    /// Skipped steps.
    public var skipped: [String]
    /// Steps not reached yet.
    public var pending: [String]
    /// Attempts made per step (steps with at least one).
    public var attempts: [String: Int]
    /// `wait_for_signal` steps currently waiting, with the signal name they wait for.
    public var waitingForSignals: [String: String]
    /// Time since start (until close for closed runs).
    public var elapsed: Interval
    /// Estimated time to completion: the critical path of the remaining steps using per-activity
    /// duration estimates; 0 once closed; `nil` while a `wait_for_signal` step is waiting (it depends
    /// on people). Signal waits not reached yet count as zero.
    public var eta: Interval?
    /// The last event folded into this progress (resume point for streams).
    public var lastEventID: Int64

    /// The ETA in milliseconds.
    public var etaMilliseconds: Int64? { eta?.milliseconds }
}
