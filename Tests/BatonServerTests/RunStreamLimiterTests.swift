import BatonRPC
@testable import BatonServer
import Testing

/// Live streams per run: the one past `subscribers_per_run` is refused naming the limit; a released
/// slot is free again; runs are counted apart.
@Suite(.timeLimit(.minutes(1))) struct RunStreamLimiterTests {
    @Test func theStreamPastTheLimitIsRefusedUntilOneEnds() throws {
        let limiter = RunStreamLimiter(limit: 2)
        try limiter.admit("run-a")
        try limiter.admit("run-a")
        do {
            try limiter.admit("run-a")
            Issue.record("a third stream was admitted")
        } catch {
            #expect(error.code == .resourceExhausted && error.message.contains("(subscribers_per_run)")
                && error.message.contains("'run-a'"))
        }
        try limiter.admit("run-b")
        limiter.release("run-a")
        try limiter.admit("run-a")
    }

    @Test func holdingReleasesWhenTheBodyEndsOrThrows() async throws {
        let limiter = RunStreamLimiter(limit: 1)
        let refused = try await limiter.holding("r") { try #require(throws: RPCError.self) { try limiter.admit("r") } }
        #expect(refused.code == .resourceExhausted)
        struct Stop: Error {}
        await #expect(throws: Stop.self) { try await limiter.holding("r") { throw Stop() } }
        try limiter.admit("r")
    }
}
