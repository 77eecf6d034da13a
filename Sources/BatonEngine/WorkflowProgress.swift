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
    /// Estimated time to completion — or, when ``etaUntilSignal`` is set, until the run reaches a wait
    /// for that signal: the critical path of the remaining steps from per-activity durations learned
    /// from history; 0 once closed. `nil` while a `wait_for_signal` step is waiting (the time until a
    /// person or another system sends the signal cannot be estimated), and when an activity left on
    /// the path has never completed (no history to estimate it from).
    public var eta: Interval?
    /// The signal of the first wait the run has not reached yet, when ``eta`` only runs until that
    /// wait begins (the wait itself and the steps after it are not in the estimate).
    public var etaUntilSignal: String?
    /// The last event folded into this progress (resume point for streams).
    public var lastEventID: Int64

    /// The ETA in milliseconds.
    public var etaMilliseconds: Int64? { eta?.milliseconds }
}
