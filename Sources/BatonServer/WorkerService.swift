import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import BatonRPC
import Foundation
import SwiftProtobuf

/// `baton.v1.WorkerService`: workers in any language long-poll task queues for activity attempts
/// and report results and heartbeats with the attempt's unguessable token.
struct WorkerService: Sendable {
    /// The service's fully-qualified name.
    static let name = "baton.v1.WorkerService"
    /// How long a poll waits when the call has no deadline.
    static let defaultPollWait: Duration = .seconds(60)

    let queues: TaskQueueDispatcher
    /// The payload limit results and heartbeat details are held to.
    var limits = RuntimeLimits()
    /// With an auth file: which queues a worker token may take tasks of.
    var authenticator: Authenticator?

    /// Registers every method of the service.
    func register(into router: inout RPCRouter) {
        let path = { (method: String) in "/\(Self.name)/\(method)" }
        router.register(path("PollActivityTask"), .unary(poll))
        router.register(path("CompleteActivityTask"), .unary(complete))
        router.register(path("FailActivityTask"), .unary(fail))
        router.register(path("RecordHeartbeat"), .unary(heartbeat))
    }

    func poll(_ request: Baton_V1_PollActivityTaskRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_PollActivityTaskResponse {
        try Validate.name(request.taskQueue, field: "task_queue")
        if let refusal = authenticator?.authorizeQueue(request.taskQueue, authorization: context.requestMetadata["authorization"]) {
            throw refusal
        }
        guard (0...Int32(Self.maxTasksPerPoll)).contains(request.maxTasks) else {
            throw RPCError(code: .invalidArgument,
                           message: "max_tasks: \(request.maxTasks) is outside 0...\(Self.maxTasksPerPoll)")
        }
        let worker = request.workerIdentity.isEmpty ? context.peer : request.workerIdentity
        // Answer empty before the caller's deadline (a quarter of the wait early, at most 1 s), so the
        // empty answer arrives in time even on a busy machine.
        let limit = context.deadline.map { deadline in
            deadline - min(.seconds(1), (deadline - ContinuousClock.now) / 4)
        } ?? (ContinuousClock.now + Self.defaultPollWait)
        let queues = self.queues
        let leased = await withTaskGroup(of: LeasedActivityTask?.self) { group in
            group.addTask { await queues.poll(queue: request.taskQueue, worker: worker) }
            group.addTask {
                try? await Task.sleep(until: limit, clock: .continuous)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // A task leased while the timer won the race must not be lost: return whichever arrived.
            var leased = first
            for await other in group where leased == nil { leased = other }
            return leased
        }
        guard let leased else { return Baton_V1_PollActivityTaskResponse() }
        var response = Self.response(leased)
        // More tasks only from what is already waiting: the poll never waits for a second one.
        let more = min(Int(max(request.maxTasks, 1)), Self.maxTasksPerPoll) - 1
        for _ in 0..<more {
            guard let next = queues.take(queue: request.taskQueue, worker: worker) else { break }
            response.additionalTasks.append(Self.response(next))
        }
        return response
    }

    /// The most tasks one poll hands out.
    static let maxTasksPerPoll = 100

    /// The API's form of a leased attempt.
    static func response(_ leased: LeasedActivityTask) -> Baton_V1_PollActivityTaskResponse {
        let task = leased.task
        return .with {
            $0.taskToken = leased.token
            $0.workflowID = task.workflowID
            $0.step = task.step
            $0.activity = task.activity
            $0.input = task.input.proto
            $0.attempt = Int32(task.attempt)
            $0.idempotencyKey = task.idempotencyKey
            if task.heartbeatDetails != .null { $0.heartbeatDetails = task.heartbeatDetails.proto }
            // The lease starts now: the attempt must be done start_to_close from here.
            if let limit = task.startToCloseTimeout {
                $0.deadline = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(Double(limit.milliseconds) / 1000))
            }
            if let heartbeat = task.heartbeatTimeout { $0.heartbeatTimeout = .init(milliseconds: heartbeat.milliseconds) }
            if let traceparent = task.traceparent { $0.traceparent = traceparent }
        }
    }

    func complete(_ request: Baton_V1_CompleteActivityTaskRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_CompleteActivityTaskResponse {
        try Self.validateToken(request.taskToken)
        let output = request.hasOutput ? JSONValue(proto: request.output) : .null
        try Validate.value(output, field: "output", limits: limits)
        if !request.nextTaskQueue.isEmpty {
            try Validate.name(request.nextTaskQueue, field: "next_task_queue")
            if let refusal = authenticator?.authorizeQueue(request.nextTaskQueue,
                                                           authorization: context.requestMetadata["authorization"]) {
                throw refusal
            }
        }
        try await mappingErrors { try await queues.complete(token: request.taskToken, output: output) }
        // The completion committed (and scheduled what follows): hand over the next waiting task.
        guard !request.nextTaskQueue.isEmpty else { return .init() }
        let worker = request.workerIdentity.isEmpty ? context.peer : request.workerIdentity
        guard let next = queues.take(queue: request.nextTaskQueue, worker: worker) else { return .init() }
        return .with { $0.nextTask = Self.response(next) }
    }

    func fail(_ request: Baton_V1_FailActivityTaskRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_FailActivityTaskResponse {
        try Self.validateToken(request.taskToken)
        guard request.hasFailure, !request.failure.type.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "failure.type: name the error type (e.g. \"Timeout\")")
        }
        try Validate.name(request.failure.type, field: "failure.type")
        try Validate.failureMessage(request.failure.message, field: "failure.message")
        let failure = ActivityFailure(
            type: request.failure.type, message: request.failure.message,
            details: request.failure.hasDetails ? JSONValue(proto: request.failure.details) : .null,
            nonRetryable: request.failure.nonRetryable)
        try Validate.value(failure.details, field: "failure.details", limits: limits)
        try await mappingErrors { try await queues.fail(token: request.taskToken, failure: failure) }
        return .init()
    }

    func heartbeat(_ request: Baton_V1_RecordHeartbeatRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_RecordHeartbeatResponse {
        try Self.validateToken(request.taskToken)
        let details = request.hasDetails ? JSONValue(proto: request.details) : .null
        try Validate.value(details, field: "details", limits: limits)
        let cancel = try await mappingErrors { try await queues.heartbeat(token: request.taskToken, details: details) }
        return .with { $0.cancelRequested = cancel }
    }

    private static func validateToken(_ token: String) throws(RPCError) {
        guard token.count == 32, token.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw RPCError(code: .invalidArgument, message: "task_token: not a token returned by PollActivityTask")
        }
    }
}
