@testable import BatonServer
import Testing

/// `--limit NAME=VALUE`: every name sets its setting; values, suffixes and ranges are checked with
/// errors naming the limit.
@Suite(.timeLimit(.minutes(1))) struct ServerLimitTests {
    @Test func everyLimitSetsItsSetting() throws {
        var configuration = ServerConfiguration()
        for (index, limit) in ServerLimit.allCases.enumerated() {
            let value = min(limit.range.upperBound, 10 + index)
            try ServerLimit.apply("\(limit.rawValue)=\(value)", to: &configuration)
            #expect(limit.value(in: configuration) == value, "\(limit.rawValue)")
        }
        #expect(configuration.limits.historyEvents == 11 && configuration.maxCallsInProgressPerConnection == 18)
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        let configuration = ServerConfiguration()
        let values = Dictionary(uniqueKeysWithValues: ServerLimit.allCases.map { ($0.rawValue, $0.value(in: configuration)) })
        #expect(values == [
            "payload_bytes": 2_097_152, "history_events": 51_200, "pending_signals": 10_000, "subscribers_per_run": 1_000,
            "workflow_id_bytes": 200, "definition_bytes": 1_048_576, "definition_steps": 10_000, "connections": 4_096,
            "streams_per_connection": 256, "requests_per_second": 0,
        ])
    }

    @Test func byteLimitsTakeUnits() throws {
        var configuration = ServerConfiguration()
        try ServerLimit.apply("payload_bytes=64KiB", to: &configuration)
        #expect(configuration.limits.payloadBytes == 65_536)
        try ServerLimit.apply("definition_bytes=3MiB", to: &configuration)
        #expect(configuration.limits.definitionBytes == 3 * 1024 * 1024)
        try ServerLimit.apply("requests_per_second=0", to: &configuration)
        #expect(configuration.requestsPerSecond == 0)
    }

    @Test(arguments: [
        ("nothing", "--limit: 'nothing' is not NAME=VALUE"),
        ("=5", "--limit: '=5' is not NAME=VALUE"),
        ("colour=5", "--limit: unknown limit 'colour'; known limits: payload_bytes,"),
        ("history_events=many", "--limit history_events: 'many' is not a whole number"),
        ("history_events=1KiB", "--limit history_events: '1KiB' is not a whole number"),
        ("payload_bytes=-1", "--limit payload_bytes: '-1' is not a whole number (bytes; a KiB or MiB suffix is allowed)"),
        ("pending_signals=0", "--limit pending_signals: 0 is outside 1...1000000"),
        ("definition_steps=10001", "--limit definition_steps: 10001 is outside 1...10000"),
        ("payload_bytes=65MiB", "--limit payload_bytes: 68157440 is outside 1...67108864"),
        ("requests_per_second=2000000", "--limit requests_per_second: 2000000 is outside 0...1000000 (0: unlimited)"),
    ])
    func badAssignmentsNameTheLimit(assignment: String, message: String) {
        var configuration = ServerConfiguration()
        do {
            try ServerLimit.apply(assignment, to: &configuration)
            Issue.record("'\(assignment)' was accepted")
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }
}
