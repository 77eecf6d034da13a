import BatonCore
import DequeModule
import Synchronization

/// Dispatches attempts to in-process activities when one is registered under the activity's name,
/// and otherwise to the attempt's task queue, where external workers poll for it.
///
/// A leased attempt is identified by an unguessable token; the worker completes, fails or
/// heartbeats with it. Timeouts (start_to_close, heartbeat) are the engine's durable timers: when one
/// fires, the engine cancels the attempt here and its token stops being accepted. After a restart the
/// engine re-dispatches in-flight attempts (same idempotency key) and they are polled again.
///
/// ```swift
/// let activities = InProcessActivities(clock: clock)
/// let queues = TaskQueueDispatcher(inProcess: activities)
/// let runtime = WorkflowRuntime(store: store, clock: clock, activities: activities, dispatcher: queues)
/// if let task = await queues.poll(queue: "marketing", worker: "w1") {
///     try await queues.complete(token: task.token, output: ["ok": true])
/// }
/// ```
public final class TaskQueueDispatcher: ActivityDispatcher {
    private struct Entry {
        var task: ActivityTask
        var reporter: ActivityReporter
        var token: String
        var worker: String?
        var cancelRequested = false
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<LeasedActivityTask?, Never>
    }

    private struct State {
        /// Attempts waiting for a poller, per queue, oldest first (mutated in place: no copies).
        var pending: [String: Deque<Entry>] = [:]
        /// The idempotency keys of every pending attempt (a redelivery or a cancel scans its queue
        /// only when the attempt is there).
        var pendingKeys: Set<String> = []
        var leased: [String: Entry] = [:]
        /// The token of each leased attempt by idempotency key (finds a redelivered attempt's stale
        /// lease without scanning every lease).
        var leasedTokens: [String: String] = [:]
        var waiters: [String: Deque<Waiter>] = [:]
        var nextWaiter = 0

        /// Takes the oldest attempt waiting on `queue`, in place.
        mutating func popPending(_ queue: String) -> Entry? {
            guard let entry = pending[queue]?.popFirst() else { return nil }
            pendingKeys.remove(entry.task.idempotencyKey)
            return entry
        }

        /// Withdraws the pending attempt `key` from every queue that holds it.
        mutating func withdrawPending(_ key: String) {
            guard pendingKeys.remove(key) != nil else { return }
            for queue in pending.keys { pending[queue]?.removeAll { $0.task.idempotencyKey == key } }
        }

        /// Leases the oldest attempt waiting on `queue` to `worker`.
        mutating func leasePending(_ queue: String, to worker: String) -> Entry? {
            guard var entry = popPending(queue) else { return nil }
            entry.worker = worker
            lease(entry)
            return entry
        }

        mutating func lease(_ entry: Entry) {
            leased[entry.token] = entry
            leasedTokens[entry.task.idempotencyKey] = entry.token
        }

        mutating func unlease(_ token: String) -> Entry? {
            guard let entry = leased.removeValue(forKey: token) else { return nil }
            if leasedTokens[entry.task.idempotencyKey] == token { leasedTokens[entry.task.idempotencyKey] = nil }
            return entry
        }
    }

    /// The activities that run in this process.
    public let inProcess: InProcessActivities
    /// The queue of activity steps that name none.
    public let defaultQueue: String
    private let state = Mutex(State())

    /// Creates a dispatcher in front of `inProcess`.
    public init(inProcess: InProcessActivities, defaultQueue: String = "default") {
        self.inProcess = inProcess
        self.defaultQueue = defaultQueue
    }

    /// In-process activities start on dispatch; queued ones start when a worker leases them.
    public func startsOnDispatch(_ activity: String) -> Bool {
        inProcess.startsOnDispatch(activity)
    }

    /// Runs the attempt in-process, or queues it (handing it straight to a waiting poller if any).
    public func dispatch(_ task: ActivityTask, reporter: ActivityReporter) {
        if inProcess.startsOnDispatch(task.activity) {
            inProcess.dispatch(task, reporter: reporter)
            return
        }
        let queue = task.taskQueue ?? defaultQueue
        let entry = Entry(task: task, reporter: reporter, token: Self.makeToken())
        let handoff: (Waiter, LeasedActivityTask)? = state.withLock { state in
            // A redelivered attempt replaces any stale copy of itself.
            state.withdrawPending(task.idempotencyKey)
            if let stale = state.leasedTokens[task.idempotencyKey] { _ = state.unlease(stale) }
            if let waiter = state.waiters[queue]?.popFirst() {
                state.lease(entry)
                return (waiter, LeasedActivityTask(token: entry.token, task: task))
            }
            state.pending[queue, default: []].append(entry)
            state.pendingKeys.insert(task.idempotencyKey)
            return nil
        }
        if let (waiter, leased) = handoff {
            // The poller reports the start once it wakes.
            waiter.continuation.resume(returning: leased)
        }
    }

    /// Asks the attempt to stop: a queued one is withdrawn, a leased one learns it through its heartbeat.
    public func cancel(_ task: AttemptRef, workflowID: String) {
        let key = "\(workflowID)/\(task.step)/\(task.attempt)"
        inProcess.cancel(task, workflowID: workflowID)
        state.withLock { state in
            state.withdrawPending(key)
            if let token = state.leasedTokens[key] { state.leased[token]?.cancelRequested = true }
        }
    }

    /// Waits for an attempt on `queue` and leases it to `worker`; nil when the calling task is cancelled
    /// first (the caller bounds the wait, e.g. by the RPC's deadline).
    public func poll(queue: String, worker: String) async -> LeasedActivityTask? {
        if let leased = take(queue: queue, worker: worker) { return leased }
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let leased = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<LeasedActivityTask?, Never>) in
                let immediate: LeasedActivityTask?? = state.withLock { state in
                    if Task.isCancelled { return .some(nil) }
                    if let entry = state.leasePending(queue, to: worker) {
                        return .some(LeasedActivityTask(token: entry.token, task: entry.task))
                    }
                    state.waiters[queue, default: []].append(Waiter(id: id, continuation: continuation))
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiters[queue]?.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters[queue]?.remove(at: index)
            }
            waiter?.continuation.resume(returning: nil)
        }
        if let leased {
            state.withLock { $0.leased[leased.token]?.worker = worker }
            reportStarted(leased.token)
        }
        return leased
    }

    /// Leases an attempt already waiting on `queue` to `worker` without waiting; nil when none is.
    public func take(queue: String, worker: String) -> LeasedActivityTask? {
        guard let leased = takePending(queue: queue, worker: worker) else { return nil }
        reportStarted(leased.token)
        return leased
    }

    private func takePending(queue: String, worker: String) -> LeasedActivityTask? {
        state.withLock { $0.leasePending(queue, to: worker) }.map { LeasedActivityTask(token: $0.token, task: $0.task) }
    }

    /// Records that the leased attempt started, without holding the worker's answer for that commit:
    /// the worker may already be running the attempt (at-least-once either way), and when its result
    /// comes first, the completion records the start itself and this input is ignored — for short
    /// activities a whole decision and commit saved.
    private func reportStarted(_ token: String) {
        guard let reporter = reporter(for: token) else { return }
        Task { await reporter.started() }
    }

    private func reporter(for token: String) -> ActivityReporter? {
        state.withLock { $0.leased[token]?.reporter }
    }

    /// Completes the leased attempt `token` with `output`.
    public func complete(token: String, output: JSONValue) async throws(BatonError) {
        let entry = try release(token)
        await entry.reporter.complete(output)
    }

    /// Fails the leased attempt `token`; the step's retry policy decides what follows.
    public func fail(token: String, failure: ActivityFailure) async throws(BatonError) {
        let entry = try release(token)
        await entry.reporter.fail(failure)
    }

    /// Records a heartbeat of the leased attempt `token`; returns whether cancellation was requested.
    public func heartbeat(token: String, details: JSONValue) async throws(BatonError) -> Bool {
        guard let entry = state.withLock({ $0.leased[token] }) else { throw Self.unknownToken() }
        if !entry.cancelRequested { await entry.reporter.heartbeat(details) }
        return entry.cancelRequested
    }

    /// Attempts waiting on `queue` (not yet leased).
    public func pendingCount(queue: String) -> Int {
        state.withLock { $0.pending[queue]?.count ?? 0 }
    }

    /// Every queue with attempts waiting or pollers waiting: how many of each (for metrics).
    public func queueStatistics() -> [String: (depth: Int, pollers: Int)] {
        state.withLock { state in
            var statistics: [String: (depth: Int, pollers: Int)] = [:]
            for (queue, entries) in state.pending where !entries.isEmpty { statistics[queue] = (entries.count, 0) }
            for (queue, waiters) in state.waiters where !waiters.isEmpty {
                statistics[queue, default: (0, 0)].pollers = waiters.count
            }
            return statistics
        }
    }

    private func release(_ token: String) throws(BatonError) -> Entry {
        guard let entry = state.withLock({ $0.unlease(token) }) else { throw Self.unknownToken() }
        return entry
    }

    private static func unknownToken() -> BatonError {
        BatonError(.notFound, "task_token is unknown or expired (the attempt completed, timed out or was cancelled)")
    }

    /// 128 random bits as 32 hex digits.
    private static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return [generator.next(), generator.next()].map { (value: UInt64) in
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

/// An attempt leased to a worker: its token and the task.
public struct LeasedActivityTask: Sendable, Hashable {
    /// The unguessable token the worker reports with.
    public var token: String
    /// The attempt.
    public var task: ActivityTask
}
