import Testing

@testable import BatonServer

/// The line budget shared by the rate-limited log lines.
@Suite(.timeLimit(.minutes(1))) struct LogThrottleTests {
    @Test func linesOverTheBudgetAreCountedAndReportedByTheNextLine() {
        var throttle = LogThrottle(lines: 2, interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(throttle.admit(now: start) == 0)
        #expect(throttle.admit(now: start + .seconds(1)) == 0)
        #expect(throttle.admit(now: start + .seconds(2)) == nil)
        #expect(throttle.admit(now: start + .seconds(9)) == nil)
        // A new window: the first line says how many were left out.
        #expect(throttle.admit(now: start + .seconds(10)) == 2)
        #expect(throttle.admit(now: start + .seconds(11)) == 0)
        #expect(throttle.admit(now: start + .seconds(12)) == nil)
        #expect(throttle.reset() == 1)
        #expect(throttle.admit(now: start + .seconds(13)) == 0)
    }
}
