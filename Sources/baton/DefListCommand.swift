import ArgumentParser

/// `baton def list`: every definition name with its latest version.
struct DefListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List definitions with their latest version."
    )

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let response = try await client.withClient { baton in
            try await client.call("list definitions") { try await baton.listDefinitions() }
        }
        if client.json { return try Output.json(response) }
        guard !response.definitions.isEmpty else { return Output.line("no definitions (register one with: baton def apply FILE)") }
        var table = Table(header: ["NAME", "VERSION"])
        for ref in response.definitions { table.rows.append([ref.name, String(ref.version)]) }
        table.print()
    }
}
