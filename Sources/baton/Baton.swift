import ArgumentParser

/// The `baton` command line: the server and (later) the client subcommands.
@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "Baton, a durable workflow orchestrator.",
        subcommands: [ServerCommand.self]
    )
}
