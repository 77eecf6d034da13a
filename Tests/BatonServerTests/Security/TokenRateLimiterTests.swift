@testable import BatonServer
import Testing

/// Requests per second per token: a bucket of one second's worth, refilled continuously; a refusal
/// names the limit and says when to retry.
@Suite(.timeLimit(.minutes(1))) struct TokenRateLimiterTests {
    static func token(_ name: String, rate: Int? = nil) -> AuthFile.Token {
        AuthFile.Token(name: name, digest: [], role: .reader, taskQueues: nil, requestsPerSecond: rate)
    }

    @Test func aTokenMayBurstToItsRateThenWaits() throws {
        let limiter = TokenRateLimiter(defaultRate: 0)
        let token = Self.token("ci", rate: 4)
        let start = ContinuousClock.now
        for _ in 0..<4 { #expect(limiter.admit(token, now: start) == nil) }
        let refusal = try #require(limiter.admit(token, now: start))
        #expect(refusal.code == .resourceExhausted)
        #expect(refusal.message.contains("(requests_per_second)") && refusal.message.contains("token 'ci'")
            && refusal.message.contains("retry in 250 ms"))
        #expect(refusal.metadata["retry-after-ms"] == "250" && refusal.metadata["retry-after"] == "1")
        // A quarter second later one more call is allowed, and only one.
        #expect(limiter.admit(token, now: start + .milliseconds(250)) == nil)
        #expect(limiter.admit(token, now: start + .milliseconds(250)) != nil)
        // After a long pause the bucket holds one second's worth, not more.
        let later = start + .seconds(60)
        for _ in 0..<4 { #expect(limiter.admit(token, now: later) == nil) }
        #expect(limiter.admit(token, now: later) != nil)
    }

    @Test func theServerRateAppliesToTokensWithoutTheirOwnAndZeroIsUnlimited() {
        let limited = TokenRateLimiter(defaultRate: 1)
        let start = ContinuousClock.now
        #expect(limited.admit(Self.token("a"), now: start) == nil)
        #expect(limited.admit(Self.token("a"), now: start) != nil)
        #expect(limited.admit(Self.token("b"), now: start) == nil, "each token has its own bucket")
        #expect(limited.admit(Self.token("free", rate: 0), now: start) == nil)
        #expect(limited.admit(Self.token("free", rate: 0), now: start) == nil)
        let open = TokenRateLimiter(defaultRate: 0)
        for _ in 0..<1_000 { #expect(open.admit(Self.token("a"), now: start) == nil) }
    }
}
