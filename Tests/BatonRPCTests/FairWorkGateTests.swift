import Synchronization
import Testing

@testable import BatonRPC

/// Connection identities for the tests (any distinct objects).
private final class Connection: Sendable {}

/// The order in which waiters got their slot.
private final class Order: Sendable {
    private let names = Mutex<[String]>([])
    var all: [String] { names.withLock { $0 } }
    func record(_ name: String) { names.withLock { $0.append(name) } }
}

/// How many tasks run at once, and the most that did.
private final class Concurrency: Sendable {
    private let counts = Mutex((now: 0, most: 0))
    var most: Int { counts.withLock { $0.most } }
    func begin() { counts.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
    func end() { counts.withLock { $0.now -= 1 } }
}

/// The gate's waiting count as it changes, so a test can wait for "n calls are queued" as an event.
private final class Waiting: Sendable {
    private let state = Mutex<(count: Int, waiters: [(Int, CheckedContinuation<Void, Never>)])>((0, []))

    func changed(_ count: Int) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count = count
            let ready = state.waiters.filter { $0.0 == count }.map(\.1)
            state.waiters.removeAll { $0.0 == count }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once exactly `count` calls wait (the suite's time limit bounds it).
    func until(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.count == count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// Holds tasks until the test opens it; once open, everything passes.
private final class Latch: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        for continuation in state.withLock({ state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }) { continuation.resume() }
    }
}

@Suite(.timeLimit(.minutes(1))) struct FairWorkGateTests {
    private let waiting = Waiting()

    private func gate(permits: Int, maxWaiting: Int = 4096) -> FairWorkGate {
        let waiting = self.waiting
        return FairWorkGate(permits: permits, maxWaiting: maxWaiting) { waiting.changed($0) }
    }

    /// Queues a waiter named `name` on `connection` (after the ones queued before), which records its
    /// turn and gives the slot back at once.
    private func queue(_ gate: FairWorkGate, _ name: String, on connection: Connection, unread: Bool = false,
                       order: Order) async -> Task<Void, any Error> {
        let before = gate.load.waiting
        let task = Task {
            try await gate.enter(connection: ObjectIdentifier(connection), holdsUnread: { unread })
            order.record(name)
            gate.leave()
        }
        await waiting.until(before + 1)
        return task
    }

    @Test func noMoreThanThePermitsRunAtOnce() async throws {
        let gate = gate(permits: 2)
        let running = Concurrency()
        let connection = Connection()
        let latch = Latch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await gate.enter(connection: ObjectIdentifier(connection), holdsUnread: { false })
                    running.begin()
                    await latch.wait()
                    running.end()
                    gate.leave()
                }
            }
            // Two hold their slots at the latch, six wait for one.
            await waiting.until(6)
            #expect(gate.load == (2, 6))
            latch.open()
            try await group.waitForAll()
        }
        #expect(running.most == 2)
        #expect(gate.load == (0, 0))
    }

    @Test func slotsGoRoundRobinAcrossConnections() async throws {
        let gate = gate(permits: 1)
        let (a, b) = (Connection(), Connection())
        let order = Order()
        try await gate.enter(connection: ObjectIdentifier(a), holdsUnread: { false })
        var tasks: [Task<Void, any Error>] = []
        for name in ["a1", "a2", "a3"] { tasks.append(await queue(gate, name, on: a, order: order)) }
        tasks.append(await queue(gate, "b1", on: b, order: order))
        gate.leave()
        for task in tasks { try await task.value }
        #expect(order.all == ["a1", "b1", "a2", "a3"])
    }

    @Test func connectionsHoldingUnreadResponsesAreServedLast() async throws {
        let gate = gate(permits: 1)
        let (hoarder, reader) = (Connection(), Connection())
        let order = Order()
        try await gate.enter(connection: ObjectIdentifier(reader), holdsUnread: { false })
        var tasks: [Task<Void, any Error>] = []
        for name in ["h1", "h2"] { tasks.append(await queue(gate, name, on: hoarder, unread: true, order: order)) }
        tasks.append(await queue(gate, "r1", on: reader, order: order))
        gate.leave()
        for task in tasks { try await task.value }
        #expect(order.all == ["r1", "h1", "h2"])
    }

    @Test func pastMaxWaitingACallIsRefusedNamingTheLimit() async throws {
        let gate = gate(permits: 1, maxWaiting: 1)
        let connection = Connection()
        let order = Order()
        try await gate.enter(connection: ObjectIdentifier(connection), holdsUnread: { false })
        let waiting = await queue(gate, "w", on: connection, order: order)
        do {
            try await gate.enter(connection: ObjectIdentifier(connection), holdsUnread: { false })
            Issue.record("a call past maxWaiting was admitted")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("1 costly calls waiting"))
        }
        gate.leave()
        try await waiting.value
        #expect(order.all == ["w"])
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() async throws {
        let gate = gate(permits: 1)
        let connection = Connection()
        let order = Order()
        try await gate.enter(connection: ObjectIdentifier(connection), holdsUnread: { false })
        let cancelled = await queue(gate, "cancelled", on: connection, order: order)
        let next = await queue(gate, "next", on: Connection(), order: order)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(gate.load.waiting == 1)
        gate.leave()
        try await next.value
        #expect(order.all == ["next"])
        #expect(gate.load == (0, 0))
    }
}
