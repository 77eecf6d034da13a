import NIOConcurrencyHelpers
import NIOCore

/// The open connections of a server, with waiters that resume when the count drops to a bound
/// (graceful shutdown and tests wait on this event instead of polling).
final class ConnectionRegistry: Sendable {
    private struct Waiter {
        var bound: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var waiters: [UInt64: Waiter] = [:]
        /// Waiters whose timeout fired before they were registered.
        var expired: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Registers an accepted connection (it is removed when its channel closes) and returns how many
    /// are open with it.
    @discardableResult
    func add(_ channel: any Channel) -> Int {
        let key = ObjectIdentifier(channel)
        let count = state.withLockedValue { state -> Int in
            state.channels[key] = channel
            return state.channels.count
        }
        channel.closeFuture.whenComplete { [self] _ in remove(key) }
        return count
    }

    private func remove(_ key: ObjectIdentifier) {
        let ready = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            state.channels.removeValue(forKey: key)
            let count = state.channels.count
            let done = state.waiters.filter { $0.value.bound >= count }
            for id in done.keys { state.waiters.removeValue(forKey: id) }
            return done.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// The open connections.
    var channels: [any Channel] { state.withLockedValue { Array($0.channels.values) } }

    /// The number of open connections.
    var count: Int { state.withLockedValue { $0.channels.count } }

    /// Waits until at most `bound` connections are open, or `timeout` passed (returns false then).
    func waitUntilCount(atMost bound: Int, timeout: Duration) async -> Bool {
        let id = state.withLockedValue { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            resumeWaiter(id, with: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let immediate = state.withLockedValue { state -> Bool? in
                if state.channels.count <= bound { return true }
                if state.expired.remove(id) != nil { return false }
                state.waiters[id] = Waiter(bound: bound, continuation: continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    private func resumeWaiter(_ id: UInt64, with result: Bool) {
        let waiter = state.withLockedValue { state -> Waiter? in
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                state.expired.insert(id)
                return nil
            }
            return waiter
        }
        waiter?.continuation.resume(returning: result)
    }
}
