import ArgumentParser

/// `baton store …`: offline tools for a server's SQLite history.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect a server's SQLite history (offline; read-only).",
        subcommands: [StoreCheckCommand.self]
    )
}
