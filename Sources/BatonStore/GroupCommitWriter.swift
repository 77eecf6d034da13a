import BatonCore
import BatonEngine
import Foundation
import Synchronization

/// The single writer: a dedicated thread that drains queued jobs and commits as many as are
/// waiting in one transaction (group commit). Each caller resumes after the commit that holds its job.
/// When a batch fails, its jobs are retried one by one so one bad job does not fail its neighbours.
///
/// Jobs may carry a coalescing key (a workflow id): a job learns whether a later job with the same
/// key is in the same transaction, so per-workflow rows (the snapshot) are written once per batch.
final class GroupCommitWriter: @unchecked Sendable {
    typealias Job = (SQLiteConnection, JobContext) throws(BatonError) -> Void

    /// What a job knows about its batch.
    struct JobContext {
        /// True when no later job in this transaction has the same coalescing key.
        var isLastForKey: Bool
        /// State shared by the jobs of one transaction.
        var batch: BatchState
    }

    /// Per-transaction scratch state (e.g. the `last_event_id` each touched workflow row holds).
    final class BatchState {
        var rowEventIDs: [String: Int64] = [:]
        var lastWrittenEventIDs: [String: Int64] = [:]
    }

    private struct Pending {
        var key: String?
        var job: Job
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let connection: SQLiteConnection
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var finished = false
    private let maxBatch: Int
    private(set) var batches = 0
    private(set) var jobs = 0
    /// Called after each committed transaction with its duration and its number of changes.
    let commitObserver = Mutex<Callback<(Duration, Int)>?>(nil)

    init(connection: SQLiteConnection, maxBatch: Int = 4096) {
        self.connection = connection
        self.maxBatch = maxBatch
        let thread = Thread { [self] in run() }
        thread.name = "baton-sqlite-writer"
        thread.start()
    }

    /// Queues `job` (synchronously, on the caller's isolation, so queue order is call order) and
    /// returns once it is committed.
    func submit(isolation: isolated (any Actor)? = #isolation, key: String? = nil, _ job: @escaping Job) async throws(BatonError) {
        do {
            try await withCheckedThrowingContinuation(isolation: isolation) { (continuation: CheckedContinuation<Void, any Error>) in
                condition.lock()
                if stopping {
                    condition.unlock()
                    continuation.resume(throwing: BatonError(.unavailable, "the store is closed"))
                    return
                }
                queue.append(Pending(key: key, job: job, continuation: continuation))
                condition.signal()
                condition.unlock()
            }
        } catch let error as BatonError {
            throw error
        } catch {
            throw BatonError(.storage, "commit failed", cause: error)
        }
    }

    /// Commits what is queued, then stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Batches committed and jobs committed so far.
    var statistics: (batches: Int, jobs: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (batches, jobs)
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let count = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            condition.unlock()
            commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) {
        var lastIndex: [String: Int] = [:]
        for (index, pending) in batch.enumerated() {
            if let key = pending.key { lastIndex[key] = index }
        }
        let began = ContinuousClock.now
        do {
            try connection.transaction { connection throws(BatonError) in
                let state = BatchState()
                for (index, pending) in batch.enumerated() {
                    let isLast = pending.key.map { lastIndex[$0] == index } ?? true
                    try pending.job(connection, JobContext(isLastForKey: isLast, batch: state))
                }
            }
            record(batches: 1, jobs: batch.count)
            if let observer = commitObserver.withLock({ $0 }) { observer.call((ContinuousClock.now - began, batch.count)) }
            for pending in batch { pending.continuation.resume() }
        } catch {
            guard batch.count > 1 else {
                batch[0].continuation.resume(throwing: error)
                return
            }
            for pending in batch {
                do {
                    try connection.transaction { connection throws(BatonError) in
                        try pending.job(connection, JobContext(isLastForKey: true, batch: BatchState()))
                    }
                    record(batches: 1, jobs: 1)
                    pending.continuation.resume()
                } catch {
                    pending.continuation.resume(throwing: error)
                }
            }
        }
    }

    private func record(batches: Int, jobs: Int) {
        condition.lock()
        self.batches += batches
        self.jobs += jobs
        condition.unlock()
    }
}
