import Synchronization

/// Wakes subscribers of a workflow after each of its commits. A wake-up carries no data (subscribers
/// read committed events from the store), and at most one is buffered per subscriber, so a slow
/// subscriber costs constant memory however much happens.
final class WorkflowHub: Sendable {
    private struct Subscribers {
        var byWorkflow: [String: [Int: AsyncStream<Void>.Continuation]] = [:]
        var nextID = 0
    }

    private let subscribers = Mutex(Subscribers())
    private let count = Atomic<Int>(0)

    /// Ends a subscription's wake-ups (and unregisters it) when the subscription's iterator is dropped.
    final class Registration: Sendable {
        let continuation: AsyncStream<Void>.Continuation

        init(_ continuation: AsyncStream<Void>.Continuation) { self.continuation = continuation }

        deinit { continuation.finish() }
    }

    /// A stream of wake-ups for `workflowID`, registered before it is returned (so no commit after
    /// this call is missed), and the registration that unregisters it when released.
    func wakeUps(_ workflowID: String) -> (AsyncStream<Void>, Registration) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = subscribers.withLock { subscribers -> Int in
            subscribers.nextID += 1
            subscribers.byWorkflow[workflowID, default: [:]][subscribers.nextID] = continuation
            return subscribers.nextID
        }
        count.wrappingAdd(1, ordering: .sequentiallyConsistent)
        continuation.onTermination = { [weak self] _ in self?.remove(workflowID, id) }
        return (stream, Registration(continuation))
    }

    /// Wakes the subscribers of `workflowID` (called after each of its commits).
    func committed(_ workflowID: String) {
        guard count.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let continuations = subscribers.withLock { $0.byWorkflow[workflowID].map { Array($0.values) } ?? [] }
        for continuation in continuations { continuation.yield() }
    }

    /// Number of live subscriptions.
    var subscriberCount: Int { count.load(ordering: .relaxed) }

    private func remove(_ workflowID: String, _ id: Int) {
        let removed = subscribers.withLock { subscribers -> Bool in
            guard subscribers.byWorkflow[workflowID]?.removeValue(forKey: id) != nil else { return false }
            if subscribers.byWorkflow[workflowID]?.isEmpty == true { subscribers.byWorkflow[workflowID] = nil }
            return true
        }
        if removed { count.wrappingSubtract(1, ordering: .relaxed) }
    }
}
