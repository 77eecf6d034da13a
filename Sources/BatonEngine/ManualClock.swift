import BatonCore
import Synchronization

/// A clock that only moves when told to: for deterministic tests of timers, retries and timeouts.
///
/// ```swift
/// let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 0))
/// clock.advance(by: .seconds(5))   // wakes every sleeper whose deadline has passed
/// ```
public final class ManualClock: WorkflowClock {
    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Instant
        var nextID = 0
        var sleepers: [Sleeper] = []
    }

    private let state: Mutex<State>

    /// Creates a clock showing `start`.
    public init(start: Instant = .epoch) {
        state = Mutex(State(now: start))
    }

    /// The instant the clock shows.
    public func now() -> Instant { state.withLock { $0.now } }

    /// Number of tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone is sleeping until.
    public var nextDeadline: Instant? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    /// Suspends until the clock is advanced to `deadline` or later.
    public func sleep(until deadline: Instant) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves time forward by `interval` and wakes the sleepers that are due.
    public func advance(by interval: Interval) {
        advance(to: now() + interval)
    }

    /// Moves time to `instant` (never backwards) and wakes the sleepers that are due.
    public func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            if instant > state.now { state.now = instant }
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
