import BatonCore
import Synchronization

/// Tells list watchers (a live list page) about runs that started or closed, from committed states
/// only. Each watcher's mailbox keeps at most one summary per run (the newest) and at most
/// ``mailboxLimit`` runs; past that it is marked overflowed and the watcher re-reads the list.
public final class WorkflowRunFeed: Sendable {
    /// Most runs held for one watcher before it must re-read the list.
    static let mailboxLimit = 10_000

    /// What a watcher has not taken yet.
    public struct Mail: Sendable {
        /// The changed runs in the order they changed (one entry per run, its newest summary).
        public var runs: [WorkflowSummary] = []
        /// Changes were dropped: re-read the list.
        public var overflowed = false
    }

    final class Mailbox: Sendable {
        let mail = Mutex((Mail(), [String: Int]()))
        let continuation: AsyncStream<Void>.Continuation

        init(_ continuation: AsyncStream<Void>.Continuation) { self.continuation = continuation }

        func deliver(_ summary: WorkflowSummary) {
            mail.withLock { box in
                if box.0.overflowed { return }
                if let index = box.1[summary.workflowID] {
                    box.0.runs[index] = summary
                } else if box.0.runs.count >= WorkflowRunFeed.mailboxLimit {
                    box.0 = Mail(runs: [], overflowed: true)
                    box.1 = [:]
                } else {
                    box.1[summary.workflowID] = box.0.runs.count
                    box.0.runs.append(summary)
                }
            }
            continuation.yield()
        }

        func take() -> Mail {
            mail.withLock { box in
                defer { box = (Mail(), [:]) }
                return box.0
            }
        }
    }

    private let watchers = Mutex<[Int: Mailbox]>([:])
    private let nextID = Atomic<Int>(0)
    private let count = Atomic<Int>(0)

    init() {}

    /// A watch, registered before it returns (no change after this call is missed).
    public func watch() -> Watch {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let mailbox = Mailbox(continuation)
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        watchers.withLock { $0[id] = mailbox }
        count.wrappingAdd(1, ordering: .sequentiallyConsistent)
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return Watch(mailbox: mailbox, wakeUps: stream.makeAsyncIterator())
    }

    /// A run's newest committed summary after it started or closed (called by the shard).
    func changed(_ summary: @autoclosure () -> WorkflowSummary?) {
        guard count.load(ordering: .sequentiallyConsistent) > 0, let summary = summary() else { return }
        for mailbox in watchers.withLock({ Array($0.values) }) { mailbox.deliver(summary) }
    }

    /// Number of live watches.
    public var watcherCount: Int { count.load(ordering: .relaxed) }

    private func remove(_ id: Int) {
        if watchers.withLock({ $0.removeValue(forKey: id) }) != nil {
            count.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    /// One watcher's view: wait for changes, then take them. Dropping it unregisters.
    public struct Watch: ~Copyable {
        let mailbox: Mailbox
        var wakeUps: AsyncStream<Void>.Iterator

        /// Waits until something changed (nil once the feed is gone), then returns what did.
        public mutating func next() async -> Mail? {
            guard await wakeUps.next() != nil else { return nil }
            return mailbox.take()
        }

        deinit { mailbox.continuation.finish() }
    }
}

extension WorkflowState {
    /// The run's summary for lists, once it has started.
    var listSummary: WorkflowSummary? {
        guard let startedAt else { return nil }
        return WorkflowSummary(workflowID: workflowID, runID: runID,
                               definition: DefinitionRef(name: definitionName, version: definitionVersion),
                               status: status, startedAt: startedAt, closedAt: closedAt, lastEventID: lastEventID)
    }
}
