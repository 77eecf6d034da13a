import NIOCore

/// The HTTP/2 "Rapid Reset" defence (CVE-2023-44487): a token bucket of the streams a client may
/// reset. Each RST_STREAM from the client takes a token; tokens come back at `refillPerSecond` up to
/// `burst`. A client that runs out is answered with GOAWAY ENHANCE_YOUR_CALM.
struct ResetRateLimiter {
    let burst: Double
    let refillPerSecond: Double
    private var tokens: Double
    private var updated: NIODeadline?

    /// Creates a full bucket.
    init(burst: Int, refillPerSecond: Int) {
        self.burst = Double(max(1, burst))
        self.refillPerSecond = Double(max(0, refillPerSecond))
        tokens = self.burst
    }

    /// Takes a token for a reset received at `now`; false when the client has reset too many streams.
    mutating func admit(now: NIODeadline) -> Bool {
        if let updated {
            let seconds = Double((now - updated).nanoseconds) / 1e9
            tokens = min(burst, tokens + max(0, seconds) * refillPerSecond)
        }
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
