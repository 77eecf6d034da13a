import BatonProto
import BatonRPC
import Foundation
import Synchronization
import SwiftProtobuf

/// Hosts activities for Baton in a Swift process: polls one task queue with up to `maxConcurrent`
/// attempts in flight, runs the registered closure for each, heartbeats automatically when the step has
/// a `heartbeat_timeout`, surfaces cancellation, and reports the output or the failure.
///
/// ```swift
/// let worker = BatonWorker(client: BatonClient(host: "127.0.0.1", port: 7400), taskQueue: "marketing",
///                          maxConcurrent: 16)
/// worker.register("research.market") { context in
///     .init(stringValue: "notes on \(context.input.structValue.fields["topic"]?.stringValue ?? "?")")
/// }
/// try await worker.run()          // until stop() or shutdown(grace:)
/// ```
///
/// An activity throws ``ActivityError`` to choose its failure's type (and `nonRetryable`); any other
/// error is reported with its Swift type name. A cancelled run cancels the activity's task and the
/// attempt is reported as type `Cancelled`. Polls that find the server unavailable are retried with
/// backoff (100 ms doubling to 5 s), so a worker outlives server restarts.
public final class BatonWorker: Sendable {
    /// An activity: the attempt's context in, the output out.
    public typealias Activity = @Sendable (WorkerContext) async throws -> Google_Protobuf_Value

    /// The client the worker calls through.
    public let client: BatonClient
    /// The task queue it polls.
    public let taskQueue: String
    /// How it names itself to the server.
    public let identity: String
    /// The most attempts it runs at once (one poller per slot).
    public let maxConcurrent: Int
    /// How long one poll waits for a task.
    public let pollWait: Duration
    /// Whether a completion asks for the next waiting task in the same call (`next_task_queue`).
    public let handOff: Bool

    private let activities = Mutex<[String: Activity]>([:])
    private let stopping = Atomic<Bool>(false)
    private let handingBack = Atomic<Bool>(false)
    private let jobs = Mutex<[String: Task<Google_Protobuf_Value, any Error>]>([:])
    private let peak = Atomic<Int>(0)
    private let running = Atomic<Int>(0)

    /// Creates a worker (nothing is polled until ``run()``).
    public init(client: BatonClient, taskQueue: String, identity: String? = nil, maxConcurrent: Int = 8,
                pollWait: Duration = .seconds(20), handOff: Bool = true) {
        self.handOff = handOff
        self.client = client
        self.taskQueue = taskQueue
        self.identity = identity ?? "swift-worker-\(ProcessInfo.processInfo.processIdentifier)"
        self.maxConcurrent = max(1, maxConcurrent)
        self.pollWait = pollWait
    }

    /// Registers (or replaces) the activity `name`.
    public func register(_ name: String, _ activity: @escaping Activity) {
        activities.withLock { $0[name] = activity }
    }

    /// The most attempts that ran at the same time so far.
    public var peakConcurrency: Int { peak.load(ordering: .relaxed) }

    /// Polls and runs attempts until ``stop()`` (then in-flight attempts finish first) or until the
    /// calling task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<maxConcurrent { group.addTask { await self.poll() } }
        }
    }

    /// Stops polling; attempts in flight finish and are reported, then ``run()`` returns. A poll
    /// waiting for a task returns within ``pollWait``.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Stops polling and gives attempts in flight `grace` to finish; the rest are cancelled and handed
    /// back (reported as a retryable `WorkerShutdown` failure, so another worker retries them).
    public func shutdown(grace: Duration) async {
        stop()
        let deadline = ContinuousClock.now + grace
        while jobs.withLock({ !$0.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        handingBack.store(true, ordering: .relaxed)
        for job in jobs.withLock({ Array($0.values) }) { job.cancel() }
    }

    private func poll() async {
        var backoff = Duration.milliseconds(100)
        while !stopping.load(ordering: .relaxed), !Task.isCancelled {
            let task: Baton_V1_PollActivityTaskResponse
            do {
                task = try await client.pollActivityTask(taskQueue: taskQueue, identity: identity, wait: pollWait)
                backoff = .milliseconds(100)
            } catch {
                // Unavailable, a lost connection, a restart: try again after a backoff.
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            // A completion hands over the next waiting task (the next step of the run, usually).
            var next: Baton_V1_PollActivityTaskResponse? = task
            while let current = next, !current.taskToken.isEmpty {
                next = await execute(current)
            }
        }
    }

    /// Runs one attempt and reports it; returns the next task the completion handed over, if any.
    private func execute(_ task: Baton_V1_PollActivityTaskResponse) async -> Baton_V1_PollActivityTaskResponse? {
        guard let activity = activities.withLock({ $0[task.activity] }) else {
            return await report(task, .failure(ActivityError(
                type: "UnknownActivity", message: "worker \(identity) has no activity '\(task.activity)'")))
        }
        let now = running.add(1, ordering: .relaxed).newValue
        _ = peak.max(now, ordering: .relaxed)
        defer { running.subtract(1, ordering: .relaxed) }
        let token = task.taskToken
        let context = WorkerContext(task: task, client: client) { [weak self] in
            self?.jobs.withLock { $0[token]?.cancel() }
        }
        let job = Task { try await activity(context) }
        jobs.withLock { $0[token] = job }
        if context.isCancelled { job.cancel() }
        let beats = task.hasHeartbeatTimeout ? heartbeats(context, every: task.heartbeatTimeout) : nil
        let result = await job.result
        beats?.cancel()
        jobs.withLock { $0[token] = nil }
        switch result {
        case .success(let output):
            return await report(task, .success(output))
        case .failure(let error) where error is CancellationError || Task.isCancelled || context.isCancelled:
            if context.isCancelled {
                return await report(task, .failure(ActivityError(type: "Cancelled", message: "the run was cancelled")))
            }
            return await report(task, .failure(ActivityError(
                type: "WorkerShutdown", message: "worker \(identity) stopped before the attempt finished")))
        case .failure(let error):
            return await report(task, .failure(error))
        }
    }

    /// Heartbeats every third of the step's heartbeat timeout (at least every 100 ms) while the attempt runs.
    private func heartbeats(_ context: WorkerContext, every timeout: Google_Protobuf_Duration) -> Task<Void, Never> {
        let total = Duration.seconds(timeout.seconds) + .nanoseconds(Int64(timeout.nanos))
        let period = max(total / 3, .milliseconds(100))
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                if Task.isCancelled { return }
                try? await context.send()
            }
        }
    }

    /// Reports the attempt's outcome, retrying while the server is unavailable (at most 5 times); a
    /// completion asks for the next waiting task unless the worker is stopping, and returns it.
    private func report(
        _ task: Baton_V1_PollActivityTaskResponse, _ outcome: Result<Google_Protobuf_Value, any Error>
    ) async -> Baton_V1_PollActivityTaskResponse? {
        var delay = Duration.milliseconds(100)
        for _ in 0..<5 {
            do {
                switch outcome {
                case .success(let output):
                    let more = handOff && !stopping.load(ordering: .relaxed)
                    let response = try await client.completeActivityTask(
                        token: task.taskToken, output: output, nextTaskQueue: more ? taskQueue : "", identity: identity)
                    return response.hasNextTask ? response.nextTask : nil
                case .failure(let error):
                    try await client.failActivityTask(token: task.taskToken, failure: Self.failure(error))
                    return nil
                }
            } catch let error as RPCError where error.code == .unavailable {
                try? await Task.sleep(for: delay)
                delay = delay * 2
            } catch {
                // The lease expired or the run closed meanwhile: the server has moved on.
                return nil
            }
        }
        return nil
    }

    static func failure(_ error: any Error) -> Baton_V1_Failure {
        if let error = error as? ActivityError {
            return .with {
                $0.type = error.type
                $0.message = error.message
                $0.nonRetryable = error.nonRetryable
                if let details = error.details { $0.details = details }
            }
        }
        return .with {
            $0.type = String(describing: Swift.type(of: error))
            $0.message = String(String(describing: error).prefix(4096))
        }
    }
}
