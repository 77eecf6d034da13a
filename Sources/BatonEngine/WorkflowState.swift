import BatonCore

/// Everything known about a workflow run, folded from its history: the snapshot stored next to the events.
/// (Its `Codable` conformance only reads format-1 snapshots, JSON written before protobuf storage:
/// do not rename stored properties or nested types' members.)
///
/// `fold(history)` always equals the stored snapshot:
/// ```swift
/// var state = WorkflowState(workflowID: id)
/// for event in history { state.apply(event, definition: definition) }
/// assert(state == storedSnapshot)
/// ```
public struct WorkflowState: Hashable, Sendable, Codable {
    /// A signal received and not yet taken by a `wait_for_signal` step.
    public struct PendingSignal: Hashable, Sendable, Codable {
        /// Signal name.
        public var name: String
        /// Its payload.
        public var payload: JSONValue

        /// Creates a pending signal.
        public init(name: String, payload: JSONValue) {
            self.name = name
            self.payload = payload
        }
    }

    /// An armed durable timer.
    public struct ArmedTimer: Hashable, Sendable, Codable {
        /// The step it belongs to.
        public var step: String
        /// The attempt it belongs to (0 for step-wide timers).
        public var attempt: Int
        /// Why it exists.
        public var purpose: TimerPurpose
        /// When it fires.
        public var fireAt: Instant

        /// Creates an armed timer.
        public init(step: String, attempt: Int, purpose: TimerPurpose, fireAt: Instant) {
            self.step = step
            self.attempt = attempt
            self.purpose = purpose
            self.fireAt = fireAt
        }
    }

    /// The run's id.
    public var workflowID: String
    /// The run's own id, from its `WorkflowStarted` event (`nil` for runs recorded before run ids
    /// existed: see ``RunKey/runID(of:)``).
    public var runID: String?
    /// The run's trace (from `WorkflowStarted`; nil in runs recorded before traces existed).
    public var trace: TraceContext?
    /// Definition name.
    public var definitionName: String = ""
    /// Pinned definition version.
    public var definitionVersion: Int = 0
    /// Lifecycle status.
    public var status: WorkflowStatus = .running
    /// The workflow input.
    public var input: JSONValue = .null
    /// Per-step state; steps not yet reached are absent.
    public var steps: [String: StepState] = [:]
    /// Steps in the order they completed (the saga compensates in reverse).
    public var completionOrder: [String] = []
    /// Signals not yet consumed, oldest first.
    public var pendingSignals: [PendingSignal] = []
    /// Signal request ids already seen (repeats are ignored).
    public var signalRequestIDs: Set<String> = []
    /// Armed timers by id.
    public var timers: [String: ArmedTimer] = [:]
    /// Whether cancellation was requested.
    public var cancelRequested = false
    /// The reason given with the cancel request.
    public var cancelReason: String?
    /// The running saga, once the workflow failed or was cancelled with `on_failure: compensate`.
    public var saga: SagaState?
    /// The first step whose compensation failed for good (status COMPENSATION_FAILED).
    public var compensationFailedStep: String?
    /// The workflow output once completed (`null` before).
    public var output: JSONValue = .null
    /// Why the workflow failed.
    public var failure: ActivityFailure?
    /// The step whose failure failed the workflow.
    public var failedStep: String?
    /// When the workflow started.
    public var startedAt: Instant?
    /// When the workflow closed.
    public var closedAt: Instant?
    /// Id of the last applied event (history length).
    public var lastEventID: Int64 = 0

    /// An empty state for `workflowID`, before `WorkflowStarted`.
    public init(workflowID: String) {
        self.workflowID = workflowID
    }

    /// The fields a run's listing row holds (id, definition, status, times, last event), without its
    /// steps, timers or values: what a change carries when it does not rewrite the snapshot.
    public var summary: WorkflowState {
        var summary = WorkflowState(workflowID: workflowID)
        summary.runID = runID
        summary.trace = trace
        summary.definitionName = definitionName
        summary.definitionVersion = definitionVersion
        summary.status = status
        summary.startedAt = startedAt
        summary.closedAt = closedAt
        summary.lastEventID = lastEventID
        return summary
    }

    /// The state of `name`, pending when not reached yet.
    public func step(_ name: String) -> StepState {
        steps[name] ?? StepState()
    }
}

extension WorkflowState: ReferenceResolver {
    /// Reads `input`, step outputs and signal payloads; `self.…` resolves to `null` here (see ``CompensationScope``).
    public func resolve(_ reference: Reference) -> JSONValue {
        switch reference.root {
        case .input: return input.lookup(reference.path)
        case .stepOutput(let name), .stepSignal(let name):
            return (steps[name]?.output ?? .null).lookup(reference.path)
        case .selfOutput, .selfInput: return .null
        }
    }
}
