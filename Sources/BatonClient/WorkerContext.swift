import BatonProto
import Synchronization
import SwiftProtobuf

/// What an activity run by ``BatonWorker`` gets: its attempt, its input, and heartbeats.
///
/// ```swift
/// worker.register("report.build") { context in
///     for page in 1...10 {
///         try await render(page)
///         try await context.heartbeat(.init(numberValue: Double(page)))   // throws CancellationError once cancelled
///     }
///     return .init(stringValue: "done")
/// }
/// ```
public final class WorkerContext: Sendable {
    /// The task as the server handed it out (token, run, step, attempt, input, deadlines).
    public let task: Baton_V1_PollActivityTaskResponse
    private let client: BatonClient
    private let latest = Mutex<Google_Protobuf_Value?>(nil)
    private let cancelled = Atomic<Bool>(false)
    private let onCancel: @Sendable () -> Void

    init(task: Baton_V1_PollActivityTaskResponse, client: BatonClient, onCancel: @escaping @Sendable () -> Void) {
        self.task = task
        self.client = client
        self.onCancel = onCancel
    }

    /// The run's id.
    public var workflowID: String { task.workflowID }
    /// The step's name.
    public var step: String { task.step }
    /// The attempt, from 1.
    public var attempt: Int { Int(task.attempt) }
    /// `workflow_id/step/attempt`: the same for every delivery of this attempt (detect repeats with it).
    public var idempotencyKey: String { task.idempotencyKey }
    /// The attempt's input.
    public var input: Google_Protobuf_Value { task.input }
    /// The last heartbeat details of an earlier attempt (resume from there), if any.
    public var previousDetails: Google_Protobuf_Value? { task.hasHeartbeatDetails ? task.heartbeatDetails : nil }
    /// True once the run was cancelled (a heartbeat answered `cancel_requested`).
    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Records progress `details` (handed to a later attempt if this one fails) and extends the lease.
    /// Throws `CancellationError` when the run was cancelled: stop and let the error propagate.
    public func heartbeat(_ details: Google_Protobuf_Value? = nil) async throws {
        if let details { latest.withLock { $0 = details } }
        try await send()
        if isCancelled { throw CancellationError() }
    }

    /// Sends the latest details; marks the context cancelled (and cancels the activity) on `cancel_requested`.
    func send() async throws {
        let details = latest.withLock { $0 }
        if try await client.recordHeartbeat(token: task.taskToken, details: details) {
            if !cancelled.exchange(true, ordering: .relaxed) { onCancel() }
        }
    }
}
