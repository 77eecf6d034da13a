import BatonCore

/// Reports an attempt's outcome back into the runtime.
public struct ActivityReporter: Sendable {
    /// The attempt being reported on.
    public let task: ActivityTask
    private let deliver: @Sendable (WorkflowInput) async -> Void

    /// Creates a reporter that forwards inputs to `deliver`.
    public init(task: ActivityTask, deliver: @escaping @Sendable (WorkflowInput) async -> Void) {
        self.task = task
        self.deliver = deliver
    }

    /// The attempt completed with `output`.
    public func complete(_ output: JSONValue) async {
        await deliver(.activityCompleted(step: task.step, attempt: task.attempt, output: output))
    }

    /// The attempt failed.
    public func fail(_ failure: ActivityFailure) async {
        await deliver(.activityFailed(step: task.step, attempt: task.attempt, failure: failure))
    }

    /// The attempt is alive; `details` go to the next attempt if this one fails.
    public func heartbeat(_ details: JSONValue) async {
        await deliver(.activityHeartbeat(step: task.step, attempt: task.attempt, details: details))
    }

    /// An external executor started the attempt.
    public func started() async {
        await deliver(.activityStarted(step: task.step, attempt: task.attempt))
    }
}
