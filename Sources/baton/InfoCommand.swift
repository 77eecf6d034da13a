import ArgumentParser

/// `baton info`: the server's version, uptime, store path and durability.
struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the server's version, uptime, store path and durability."
    )

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let response = try await client.withClient { baton in
            try await client.call("server info") { try await baton.serverInfo() }
        }
        if client.json { return try Output.json(response) }
        var table = Table(header: ["version", response.version])
        table.rows.append(["address", client.resolvedAddress])
        table.rows.append(["started", Formatting.time(response.hasStartTime ? response.startTime : nil)])
        table.rows.append(["uptime", response.hasUptime ? Formatting.duration(response.uptime) : "-"])
        table.rows.append(["store", response.storePath])
        table.rows.append(["durability", response.durability])
        table.print()
    }
}
