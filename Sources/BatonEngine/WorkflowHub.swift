import BatonCore
import Synchronization

/// Hands each committed change of a workflow (its events and the committed state after them) to the
/// workflow's subscribers, in commit order, without touching the store.
///
/// Every subscriber has a bounded mailbox: when a slow subscriber falls more than
/// ``mailboxLimit`` events behind, its mailbox drops the events and keeps only the newest state, and
/// the subscriber reads the gap from the store. A wake-up carries no data and at most one is buffered,
/// so a slow subscriber costs bounded memory however much happens.
final class WorkflowHub: Sendable {
    /// Most events buffered for one subscriber before it falls back to reading the store.
    static let mailboxLimit = 1000

    /// What a subscriber has not taken yet.
    struct Mail {
        /// Committed events in order (empty after an overflow).
        var events: [WorkflowEvent] = []
        /// The committed state after the newest change.
        var state: WorkflowState?
        /// Events were dropped: the subscriber must read its gap from the store.
        var overflowed = false
    }

    /// One subscriber's mailbox.
    final class Mailbox: Sendable {
        let mail = Mutex(Mail())
        let continuation: AsyncStream<Void>.Continuation

        init(_ continuation: AsyncStream<Void>.Continuation) { self.continuation = continuation }

        /// Takes everything delivered so far.
        func take() -> Mail {
            mail.withLock { mail in
                defer { mail = Mail() }
                return mail
            }
        }

        fileprivate func deliver(_ events: [WorkflowEvent], _ state: WorkflowState) {
            mail.withLock { mail in
                if !mail.overflowed {
                    if mail.events.count + events.count > WorkflowHub.mailboxLimit {
                        mail.overflowed = true
                        mail.events = []
                    } else {
                        mail.events.append(contentsOf: events)
                    }
                }
                mail.state = state
            }
            continuation.yield()
        }
    }

    private struct Subscribers {
        var byWorkflow: [String: [Int: Mailbox]] = [:]
        var nextID = 0
    }

    private let subscribers = Mutex(Subscribers())
    /// Runs that started or closed, for live lists.
    let runs = WorkflowRunFeed()
    private let count = Atomic<Int>(0)

    /// Ends a subscription's wake-ups (and unregisters it) when the subscription's iterator is dropped.
    final class Registration: Sendable {
        let mailbox: Mailbox

        init(_ mailbox: Mailbox) { self.mailbox = mailbox }

        deinit { mailbox.continuation.finish() }
    }

    /// A stream of wake-ups for `workflowID`, registered before it is returned (so no commit after
    /// this call is missed), and the registration holding its mailbox (unregistered when released).
    func subscribe(_ workflowID: String) -> (AsyncStream<Void>, Registration) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let mailbox = Mailbox(continuation)
        let id = subscribers.withLock { subscribers -> Int in
            subscribers.nextID += 1
            subscribers.byWorkflow[workflowID, default: [:]][subscribers.nextID] = mailbox
            return subscribers.nextID
        }
        count.wrappingAdd(1, ordering: .sequentiallyConsistent)
        continuation.onTermination = { [weak self] _ in self?.remove(workflowID, id) }
        return (stream, Registration(mailbox))
    }

    /// Whether anyone watches `workflowID` (lets the committer skip building what nobody reads).
    func isWatched(_ workflowID: String) -> Bool {
        guard count.load(ordering: .sequentiallyConsistent) > 0 else { return false }
        return subscribers.withLock { $0.byWorkflow[workflowID] != nil }
    }

    /// Delivers a committed change of `workflowID` (called after each of its commits, in commit order).
    func committed(_ workflowID: String, events: [WorkflowEvent], state: WorkflowState) {
        guard count.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let mailboxes = subscribers.withLock { $0.byWorkflow[workflowID].map { Array($0.values) } ?? [] }
        for mailbox in mailboxes { mailbox.deliver(events, state) }
    }

    /// Number of live subscriptions.
    var subscriberCount: Int { count.load(ordering: .relaxed) }

    /// Called with every run's committed events, after each commit (set once, before the runtime
    /// serves; it must be quick and must not call back into the runtime).
    let observer = Mutex<Callback<CommittedEvents>?>(nil)
    private let observed = Atomic<Bool>(false)

    /// Whether an observer is set.
    var isObserved: Bool { observed.load(ordering: .relaxed) }

    /// Sets the observer.
    func setObserver(_ body: @escaping @Sendable (CommittedEvents) -> Void) {
        observer.withLock { $0 = Callback(body) }
        observed.store(true, ordering: .relaxed)
    }

    /// Hands `events` of the run in `state` to the observer, if any.
    func observe(_ workflowID: String, events: [WorkflowEvent], state: WorkflowState) {
        guard !events.isEmpty, let observer = observer.withLock({ $0 }) else { return }
        observer.call(CommittedEvents(
            workflowID: workflowID, runID: state.publicRunID,
            definition: DefinitionRef(name: state.definitionName, version: state.definitionVersion),
            startedAt: state.startedAt, events: events, trace: state.trace))
    }

    private func remove(_ workflowID: String, _ id: Int) {
        let removed = subscribers.withLock { subscribers -> Bool in
            guard subscribers.byWorkflow[workflowID]?.removeValue(forKey: id) != nil else { return false }
            if subscribers.byWorkflow[workflowID]?.isEmpty == true { subscribers.byWorkflow[workflowID] = nil }
            return true
        }
        if removed { count.wrappingSubtract(1, ordering: .relaxed) }
    }
}
