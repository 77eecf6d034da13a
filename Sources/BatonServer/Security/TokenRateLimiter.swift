import BatonRPC
import Synchronization

/// Requests per second per token (`requests_per_second`): a token bucket per token, refilled at the
/// token's rate (its own `requests_per_second` in the auth file, else the server's) and holding at
/// most one second's worth, so a token may burst to its rate and no further. A call past it is
/// RESOURCE_EXHAUSTED naming the limit, with when to retry (`retry in N ms`, trailing metadata
/// `retry-after-ms`, and `retry-after` in whole seconds for HTTP clients).
final class TokenRateLimiter: Sendable {
    private struct Bucket {
        var available: Double
        var refilled: ContinuousClock.Instant
    }

    private let defaultRate: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    /// Limits tokens without a rate of their own to `defaultRate` calls per second (0: unlimited).
    init(defaultRate: Int) {
        self.defaultRate = defaultRate
    }

    /// Takes one call from `token`'s bucket; the error to answer when it is empty, nil when the call may go.
    func admit(_ token: AuthFile.Token, now: ContinuousClock.Instant = .now) -> RPCError? {
        let rate = token.requestsPerSecond ?? defaultRate
        guard rate > 0 else { return nil }
        let capacity = Double(rate)
        let wait = buckets.withLock { buckets -> Double? in
            var bucket = buckets[token.name] ?? Bucket(available: capacity, refilled: now)
            let elapsed = now - bucket.refilled
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.available = min(capacity, bucket.available + max(0, seconds) * capacity)
            bucket.refilled = now
            defer { buckets[token.name] = bucket }
            if bucket.available >= 1 {
                bucket.available -= 1
                return nil
            }
            return (1 - bucket.available) / capacity
        }
        guard let wait else { return nil }
        let milliseconds = max(1, Int((wait * 1000).rounded(.up)))
        var metadata = Metadata()
        metadata.add("retry-after-ms", String(milliseconds))
        metadata.add("retry-after", String(max(1, (milliseconds + 999) / 1000)))
        return RPCError(code: .resourceExhausted,
                        message: "token '\(token.name)' called more than \(rate) times in a second; the limit is \(rate) "
                            + "(requests_per_second); retry in \(milliseconds) ms",
                        metadata: metadata)
    }
}
