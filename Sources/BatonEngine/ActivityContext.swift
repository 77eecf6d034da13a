import BatonCore

/// What an in-process activity sees of its attempt.
public struct ActivityContext: Sendable {
    /// The attempt.
    public let task: ActivityTask
    /// The runtime clock.
    public let clock: any WorkflowClock
    let reporter: ActivityReporter

    /// The evaluated input.
    public var input: JSONValue { task.input }
    /// `workflow_id/step/attempt`.
    public var idempotencyKey: String { task.idempotencyKey }

    /// Records progress; on failure, the next attempt receives `details` in `task.heartbeatDetails`.
    public func heartbeat(_ details: JSONValue) async {
        await reporter.heartbeat(details)
    }

    /// Sleeps on the runtime clock.
    public func sleep(for interval: Interval) async throws {
        try await clock.sleep(until: clock.now() + interval)
    }
}
