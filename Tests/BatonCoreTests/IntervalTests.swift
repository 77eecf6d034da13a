import BatonCore
import Testing

@Suite(.timeLimit(.minutes(2))) struct IntervalTests {
    @Test(arguments: [
        ("500ms", Int64(500)), ("1s", 1000), ("5m", 300_000), ("24h", 86_400_000), ("1h30m", 5_400_000),
        ("2d", 172_800_000), ("1m30s250ms", 90_250),
    ])
    func parsesDurations(text: String, milliseconds: Int64) {
        #expect(Interval(parsing: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "5", "1x", "-1s", "1m1h", "1s1s", "s", "1.5s", "1 h"])
    func rejectsBadDurations(text: String) {
        #expect(Interval(parsing: text) == nil)
    }

    @Test func descriptionRoundTrips() {
        for ms: Int64 in [1, 500, 1000, 61_000, 5_400_000, 86_400_000] {
            let interval = Interval(milliseconds: ms)
            #expect(Interval(parsing: interval.description) == interval)
        }
    }
}
