import ArgumentParser

/// `baton def`: the group of definition subcommands (apply, list, show).
struct DefCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "def",
        abstract: "Register and read workflow definitions.",
        subcommands: [DefApplyCommand.self, DefListCommand.self, DefShowCommand.self]
    )
}
