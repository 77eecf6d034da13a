import BatonProto
import BatonRPC
import SwiftProtobuf

/// `baton.v1.WorkerService`: the calls a worker makes (``BatonWorker`` makes them for you).
extension BatonClient {
    /// Waits up to `wait` for an attempt on `taskQueue`; the answer has an empty `taskToken` when none came.
    public func pollActivityTask(
        taskQueue: String, identity: String, wait: Duration = .seconds(20)
    ) async throws -> Baton_V1_PollActivityTaskResponse {
        try await unary(Self.workers, "PollActivityTask", Baton_V1_PollActivityTaskRequest.with {
            $0.taskQueue = taskQueue
            $0.workerIdentity = identity
        }, timeout: wait)
    }

    /// Reports an attempt's output. With `nextTaskQueue`, the answer's `nextTask` is the next task
    /// waiting on that queue, leased to `identity` (empty token when none was waiting).
    @discardableResult
    public func completeActivityTask(
        token: String, output: Google_Protobuf_Value, nextTaskQueue: String = "", identity: String = ""
    ) async throws -> Baton_V1_CompleteActivityTaskResponse {
        try await unary(Self.workers, "CompleteActivityTask", Baton_V1_CompleteActivityTaskRequest.with {
            $0.taskToken = token
            $0.output = output
            $0.nextTaskQueue = nextTaskQueue
            $0.workerIdentity = identity
        })
    }

    /// Reports a failed attempt; the step's retry policy decides what follows.
    public func failActivityTask(token: String, failure: Baton_V1_Failure) async throws {
        let _: Baton_V1_FailActivityTaskResponse = try await unary(
            Self.workers, "FailActivityTask",
            Baton_V1_FailActivityTaskRequest.with { $0.taskToken = token; $0.failure = failure })
    }

    /// Extends an attempt's lease and records `details`; true when the run was cancelled.
    public func recordHeartbeat(token: String, details: Google_Protobuf_Value?) async throws -> Bool {
        let response: Baton_V1_RecordHeartbeatResponse = try await unary(
            Self.workers, "RecordHeartbeat", Baton_V1_RecordHeartbeatRequest.with {
                $0.taskToken = token
                if let details { $0.details = details }
            })
        return response.cancelRequested
    }
}

extension BatonClient {
    /// `value` as compact JSON the way Baton writes it everywhere: whole numbers without `.0`
    /// (`{"n":13}`), map keys sorted.
    public static func jsonText(_ value: Google_Protobuf_Value) -> String {
        (try? ProtoJSON.string(value)) ?? "null"
    }
}
