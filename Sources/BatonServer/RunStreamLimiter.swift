import BatonCore
import BatonEngine
import BatonRPC
import Synchronization

/// Counts the live streams of each run — StreamProgress and WatchHistory in every protocol, and the
/// progress and history event streams — and refuses the one past `subscribers_per_run` with
/// RESOURCE_EXHAUSTED naming the limit (progress streams share one engine subscription per run, so
/// the engine alone cannot count them).
final class RunStreamLimiter: Sendable {
    private let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Runs `body` counted as one stream of `run` (a storage key), or throws when the run already has
    /// as many as the limit.
    func holding<T>(_ run: String, _ body: () async throws -> T) async throws -> T {
        try admit(run)
        defer { release(run) }
        return try await body()
    }

    /// Counts one more stream of `run`, or throws RESOURCE_EXHAUSTED at the limit.
    func admit(_ run: String) throws(RPCError) {
        let admitted = counts.withLock { counts -> Bool in
            let current = counts[run, default: 0]
            guard current < limit else { return false }
            counts[run] = current + 1
            return true
        }
        guard admitted else {
            let (id, _) = RunKey.split(run)
            throw RPCError(code: .resourceExhausted, message: "workflow '\(NameRule.printable(id))' already has \(limit) "
                + "live streams; \(RuntimeLimits.reached("subscribers_per_run", limit))")
        }
    }

    /// Counts one stream of `run` less.
    func release(_ run: String) {
        counts.withLock { counts in
            let remaining = counts[run, default: 1] - 1
            counts[run] = remaining > 0 ? remaining : nil
        }
    }
}
