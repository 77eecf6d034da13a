/// One fact in a workflow's history. Histories are append-only; event ids count 1, 2, 3, … per workflow.
public struct WorkflowEvent: Hashable, Sendable {
    /// Position in the workflow's history, starting at 1.
    public var id: Int64
    /// When the engine decided this event.
    public var time: Instant
    /// What happened.
    public var kind: EventKind

    /// Creates an event.
    public init(id: Int64, time: Instant, kind: EventKind) {
        self.id = id
        self.time = time
        self.kind = kind
    }
}

/// What happened, as a past-tense fact (DESIGN §3).
public enum EventKind: Hashable, Sendable, Codable {
    /// The workflow started with `input`, pinned to a definition version, as the run `runID`
    /// (`nil` in runs recorded before run ids existed), in the trace `trace` (`nil` before traces existed).
    case workflowStarted(definition: String, version: Int, input: JSONValue, runID: String? = nil, trace: TraceContext? = nil)
    /// Attempt `attempt` of `step` was scheduled with its evaluated input.
    case stepScheduled(step: String, attempt: Int, input: JSONValue)
    /// The attempt was picked up by an executor.
    case stepStarted(step: String, attempt: Int)
    /// The attempt reported progress; `details` are handed to a later attempt.
    case stepHeartbeat(step: String, attempt: Int, details: JSONValue)
    /// The attempt (or, for signal/sleep steps, the wait) finished with `output`.
    case stepCompleted(step: String, attempt: Int, output: JSONValue)
    /// The attempt failed; `retryAt` is set when another attempt will follow.
    case stepFailed(step: String, attempt: Int, failure: ActivityFailure, retryAt: Instant?)
    /// The attempt timed out; `retryAt` is set when another attempt will follow.
    case stepTimedOut(step: String, attempt: Int, timeout: TimeoutKind, retryAt: Instant?)
    /// The step's `when` was false; dependents proceed.
    case stepSkipped(step: String)
    /// A durable timer was armed (re-arming an id replaces its deadline).
    case timerStarted(timer: String, step: String, attempt: Int, purpose: TimerPurpose, fireAt: Instant)
    /// A durable timer fired.
    case timerFired(timer: String)
    /// A signal arrived.
    case signalReceived(name: String, payload: JSONValue, requestID: String?)
    /// A `wait_for_signal` step gave up waiting.
    case signalWaitTimedOut(step: String)
    /// Someone asked to cancel the workflow.
    case cancelRequested(reason: String)
    /// The workflow stopped scheduling and the saga began: because `step` failed with `failure`
    /// (both `nil` when it was cancelled). Completed steps are compensated in reverse completion order.
    case sagaStarted(step: String?, failure: ActivityFailure?)
    /// The compensation of `step` started.
    case compensationStarted(step: String)
    /// Attempt `attempt` of the compensation of `step` was scheduled with its evaluated input.
    case compensationScheduled(step: String, attempt: Int, input: JSONValue)
    /// An attempt of the compensation of `step` failed; `retryAt` is set when another attempt will follow.
    case compensationAttemptFailed(step: String, attempt: Int, failure: ActivityFailure, retryAt: Instant?)
    /// The compensation of `step` completed.
    case compensationCompleted(step: String)
    /// The compensation of `step` failed for good.
    case compensationFailed(step: String, failure: ActivityFailure)
    /// The workflow completed with `output`.
    case workflowCompleted(output: JSONValue)
    /// The workflow failed because `step` failed (or for a workflow-level reason when `step` is nil).
    case workflowFailed(step: String?, failure: ActivityFailure)
    /// The workflow was cancelled.
    case workflowCancelled(reason: String)
    /// The workflow was terminated; nothing more runs.
    case workflowTerminated(reason: String)
    /// The workflow failed and all compensations completed.
    case workflowCompensated
    /// The saga finished but the compensation of `step` (the first to fail) failed for good.
    case workflowCompensationFailed(step: String)
    /// The circuit breaker `key` was open when attempt `attempt` of `step` was due: the attempt failed
    /// fast without dispatch (error type `CircuitOpen`), or completed with the step's fallback when `fallback`.
    case circuitRejected(step: String, attempt: Int, key: String, fallback: Bool)
    /// The circuit breaker `key` opened.
    case circuitOpened(key: String)
    /// The circuit breaker `key` let trial calls through.
    case circuitHalfOpened(key: String)
    /// The circuit breaker `key` closed again.
    case circuitClosed(key: String)

    /// The event type name stored in the `type` column, e.g. `StepCompleted`.
    public var typeName: String {
        switch self {
        case .workflowStarted: return "WorkflowStarted"
        case .stepScheduled: return "StepScheduled"
        case .stepStarted: return "StepStarted"
        case .stepHeartbeat: return "StepHeartbeat"
        case .stepCompleted: return "StepCompleted"
        case .stepFailed: return "StepFailed"
        case .stepTimedOut: return "StepTimedOut"
        case .stepSkipped: return "StepSkipped"
        case .timerStarted: return "TimerStarted"
        case .timerFired: return "TimerFired"
        case .signalReceived: return "SignalReceived"
        case .signalWaitTimedOut: return "SignalWaitTimedOut"
        case .cancelRequested: return "CancelRequested"
        case .sagaStarted: return "SagaStarted"
        case .compensationStarted: return "CompensationStarted"
        case .compensationScheduled: return "CompensationScheduled"
        case .compensationAttemptFailed: return "CompensationAttemptFailed"
        case .compensationCompleted: return "CompensationCompleted"
        case .compensationFailed: return "CompensationFailed"
        case .workflowCompleted: return "WorkflowCompleted"
        case .workflowFailed: return "WorkflowFailed"
        case .workflowCancelled: return "WorkflowCancelled"
        case .workflowTerminated: return "WorkflowTerminated"
        case .workflowCompensated: return "WorkflowCompensated"
        case .workflowCompensationFailed: return "WorkflowCompensationFailed"
        case .circuitRejected: return "CircuitRejected"
        case .circuitOpened: return "CircuitOpened"
        case .circuitHalfOpened: return "CircuitHalfOpened"
        case .circuitClosed: return "CircuitClosed"
        }
    }

    /// The step this event concerns, if any.
    public var step: String? {
        switch self {
        case .stepScheduled(let step, _, _), .stepStarted(let step, _), .stepHeartbeat(let step, _, _),
            .stepCompleted(let step, _, _), .stepFailed(let step, _, _, _), .stepTimedOut(let step, _, _, _),
            .stepSkipped(let step), .timerStarted(_, let step, _, _, _), .signalWaitTimedOut(let step),
            .compensationStarted(let step), .compensationCompleted(let step), .compensationFailed(let step, _),
            .compensationScheduled(let step, _, _), .compensationAttemptFailed(let step, _, _, _),
            .workflowCompensationFailed(let step), .circuitRejected(let step, _, _, _):
            return step
        case .workflowFailed(let step, _), .sagaStarted(let step, _):
            return step
        default:
            return nil
        }
    }
}
