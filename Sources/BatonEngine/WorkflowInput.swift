import BatonCore

/// Something that happened to a running workflow and must be decided on.
public enum WorkflowInput: Hashable, Sendable {
    /// An executor picked up the attempt.
    case activityStarted(step: String, attempt: Int)
    /// The attempt finished with `output`.
    case activityCompleted(step: String, attempt: Int, output: JSONValue)
    /// The attempt failed.
    case activityFailed(step: String, attempt: Int, failure: ActivityFailure)
    /// The attempt reported progress.
    case activityHeartbeat(step: String, attempt: Int, details: JSONValue)
    /// A durable timer fired.
    case timerFired(timer: String)
    /// A signal arrived.
    case signal(name: String, payload: JSONValue, requestID: String?)
    /// Cancel requested.
    case cancel(reason: String)
    /// Terminate requested.
    case terminate(reason: String)
}
