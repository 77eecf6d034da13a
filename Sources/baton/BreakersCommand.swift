import ArgumentParser

/// `baton breakers`: every circuit breaker with its state.
struct BreakersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "breakers",
        abstract: "List circuit breakers and their state."
    )

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let response = try await client.withClient { baton in
            try await client.call("list breakers") { try await baton.listCircuitBreakers() }
        }
        if client.json { return try Output.json(response) }
        guard !response.breakers.isEmpty else { return Output.line("no circuit breakers") }
        var table = Table(header: ["KEY", "STATE", "FAILURES", "CHANGED", "HALF-OPEN AT"])
        for breaker in response.breakers {
            table.rows.append([
                breaker.key, Formatting.state(breaker.state), String(breaker.consecutiveFailures),
                Formatting.time(breaker.hasChangedTime ? breaker.changedTime : nil),
                Formatting.time(breaker.hasHalfOpenTime ? breaker.halfOpenTime : nil),
            ])
        }
        table.print()
    }
}
