import DequeModule
import Synchronization

/// Bounds how many costly pieces of work (history pages, say) run at once server-wide, and hands the
/// free slots out fairly: round-robin across connections, connections whose clients read their
/// responses before those holding unread ones. What waits holds only its request, so a flood of such
/// calls costs queue entries instead of memory and CPU, and cheap calls outside the gate are not
/// held up behind it. A waiter that is cancelled (its stream reset, its connection closed, its
/// deadline passed) leaves the queue at once; past `maxWaiting` a call is refused RESOURCE_EXHAUSTED.
///
/// ```swift
/// let page = try await gate.run(context) { try await readPage() }
/// ```
public final class FairWorkGate: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue {
        var waiters: Deque<Waiter> = []
        let holdsUnread: @Sendable () -> Bool
    }

    private struct State {
        var running = 0
        var waiting = 0
        var nextID: UInt64 = 0
        var queues: [ObjectIdentifier: Queue] = [:]
        /// Connections with waiters, in the order they are served (the front is next).
        var ring: Deque<ObjectIdentifier> = []
    }

    /// Pieces of work that may run at once.
    public let permits: Int
    /// Calls that may wait for a slot; more are refused.
    public let maxWaiting: Int
    private let state = Mutex(State())
    /// Told the number of waiting calls after each change, in order (called under the gate's lock;
    /// tests synchronize on it).
    private let waitingChanged: (@Sendable (Int) -> Void)?

    /// A gate of `permits` slots with room for `maxWaiting` waiters.
    public convenience init(permits: Int, maxWaiting: Int = 4096) {
        self.init(permits: permits, maxWaiting: maxWaiting, waitingChanged: nil)
    }

    init(permits: Int, maxWaiting: Int = 4096, waitingChanged: (@Sendable (Int) -> Void)?) {
        self.permits = max(1, permits)
        self.maxWaiting = max(0, maxWaiting)
        self.waitingChanged = waitingChanged
    }

    /// Runs `work` once a slot is free for the call of `context`.
    public func run<T: Sendable>(_ context: ServerCallContext, _ work: () async throws -> T) async throws -> T {
        try await enter(connection: context.connection, holdsUnread: context.clientHoldsUnreadResponses)
        defer { leave() }
        return try await work()
    }

    /// Waits for a slot for a call on `connection`; `holdsUnread` tells whether that connection's client
    /// is behind on reading (it is then served after everyone else waiting).
    func enter(connection: ObjectIdentifier, holdsUnread: @escaping @Sendable () -> Bool) async throws {
        try Task.checkCancellation()
        let id: UInt64? = try state.withLock { state throws(RPCError) -> UInt64? in
            if state.running < permits, state.waiting == 0 {
                state.running += 1
                return nil
            }
            guard state.waiting < maxWaiting else {
                throw RPCError(code: .resourceExhausted,
                               message: "the server has \(maxWaiting) costly calls waiting (its limit); retry later")
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let queued = state.withLock { state -> Bool in
                    if Task.isCancelled { return false }
                    if state.queues[connection] == nil {
                        state.queues[connection] = Queue(holdsUnread: holdsUnread)
                        state.ring.append(connection)
                    }
                    state.queues[connection]?.waiters.append(Waiter(id: id, continuation: continuation))
                    state.waiting += 1
                    waitingChanged?(state.waiting)
                    return true
                }
                if !queued { continuation.resume(throwing: CancellationError()) }
                // A slot may have been freed between the first check and the enqueue.
                grantFreeSlots()
            }
        } onCancel: {
            let removed = state.withLock { state -> Waiter? in
                guard var queue = state.queues[connection],
                      let index = queue.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = queue.waiters.remove(at: index)
                state.waiting -= 1
                if queue.waiters.isEmpty {
                    state.queues[connection] = nil
                    state.ring.removeAll { $0 == connection }
                } else {
                    state.queues[connection] = queue
                }
                waitingChanged?(state.waiting)
                return waiter
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives a slot back and hands it to the next waiter.
    func leave() {
        state.withLock { $0.running -= 1 }
        grantFreeSlots()
    }

    /// Work running and calls waiting now.
    public var load: (running: Int, waiting: Int) {
        state.withLock { ($0.running, $0.waiting) }
    }

    private func grantFreeSlots() {
        while let waiter = state.withLock({ state in
            let next = Self.nextWaiter(&state, permits: permits)
            if next != nil { waitingChanged?(state.waiting) }
            return next
        }) {
            waiter.continuation.resume()
        }
    }

    /// Takes a slot for the next waiter, if a slot is free and anyone waits: the first connection in
    /// ring order whose client keeps up, or the first in ring order when none does.
    private static func nextWaiter(_ state: inout State, permits: Int) -> Waiter? {
        while state.running < permits, !state.ring.isEmpty {
            let position = state.ring.firstIndex { state.queues[$0]?.holdsUnread() == false } ?? 0
            let connection = state.ring.remove(at: position)
            guard var queue = state.queues.removeValue(forKey: connection), !queue.waiters.isEmpty else { continue }
            let waiter = queue.waiters.removeFirst()
            state.waiting -= 1
            state.running += 1
            if !queue.waiters.isEmpty {
                state.queues[connection] = queue
                state.ring.append(connection)
            }
            return waiter
        }
        return nil
    }
}
