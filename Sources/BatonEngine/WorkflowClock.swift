import BatonCore

/// The engine's source of time. Production uses ``SystemClock``; tests use ``ManualClock`` and move
/// time by hand, so nothing in the engine depends on the wall clock.
public protocol WorkflowClock: Sendable {
    /// The current instant.
    func now() -> Instant
    /// Suspends until `deadline` (returns at once when it has passed). Throws `CancellationError` when cancelled.
    func sleep(until deadline: Instant) async throws
}

/// Wall-clock time (Unix epoch milliseconds) with `Task.sleep` for waiting.
public struct SystemClock: WorkflowClock {
    private let origin: Int64
    private let start = ContinuousClock.now

    /// Creates a clock anchored at `epochMilliseconds` (pass the wall-clock time at startup).
    public init(epochMilliseconds: Int64) {
        origin = epochMilliseconds
    }

    /// Milliseconds since the epoch, advancing monotonically from the anchor.
    public func now() -> Instant {
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return Instant(millisecondsSinceEpoch: origin + milliseconds)
    }

    /// Sleeps with `Task.sleep`.
    public func sleep(until deadline: Instant) async throws {
        let remaining = deadline.millisecondsSinceEpoch - now().millisecondsSinceEpoch
        if remaining > 0 { try await Task.sleep(for: .milliseconds(remaining)) }
    }
}
