import BatonCore

/// The engine's limits on what one run may hold, all configurable (`baton server --limit NAME=VALUE`,
/// names in ``name(of:)``): payload sizes, history length, pending signals, live subscribers. A limit
/// reached is an error naming it and its value; the history limit fails the run instead.
///
/// ```swift
/// var limits = RuntimeLimits()
/// limits.historyEvents = 10_000
/// let runtime = WorkflowRuntime(store: store, clock: SystemClock(), limits: limits)
/// ```
public struct RuntimeLimits: Sendable, Equatable {
    /// Bytes of compact JSON in a workflow input, a signal payload, an activity result or heartbeat
    /// details (`payload_bytes`; 2 MiB, like Temporal's blob limit).
    public var payloadBytes = 2 * 1024 * 1024
    /// Events in one run's history (`history_events`; Temporal's default 51,200). The decision that
    /// reaches it ends the run as failed (``historyLimitErrorType``) instead of letting it grow.
    public var historyEvents = 51_200
    /// Signals a run received that no wait step consumed yet (`pending_signals`).
    public var pendingSignals = 10_000
    /// Live streams of one run's progress or history (`subscribers_per_run`).
    public var subscribersPerRun = 1_000
    /// Bytes of a workflow id (`workflow_id_bytes`).
    public var workflowIDBytes = 200
    /// Bytes of a definition's source text (`definition_bytes`).
    public var definitionBytes = 1024 * 1024
    /// Steps in one definition (`definition_steps`; at most ``DefinitionLimits/maximumSteps``).
    public var definitionSteps = DefinitionLimits.maximumSteps

    /// The defaults.
    public init() {}

    /// The failure type of a run that reached ``historyEvents``.
    public static let historyLimitErrorType = "HistoryLimitExceeded"

    /// The message of an error for `limit` (its `--limit` name) set to `value`: `(name) … limit N`.
    public static func reached(_ name: String, _ value: Int) -> String {
        "the limit is \(value) (\(name))"
    }
}
