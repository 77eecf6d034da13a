import ArgumentParser
import Foundation

/// The `baton` command line: the server and the client subcommands.
///
/// ```
/// baton server --data .baton
/// baton def apply examples/marketing_campaign.yaml
/// baton start marketing_campaign --input '{"product":"Widget"}' --watch
/// ```
@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "Baton, a durable workflow orchestrator.",
        discussion: """
            Client subcommands talk to a server at --address HOST:PORT (default: $BATON_ADDRESS, \
            else \(ClientOptions.defaultAddress)); -o json|jsonl (--json: jsonl) prints responses in \
            protobuf's JSON mapping. A workflow id names its latest run; -r/--run-id names an earlier one. \
            Errors are one line on stderr: baton: <what failed>: <status>: <message>.

            \(ExitStatus.help)
            """,
        groupedSubcommands: [
            CommandGroup(name: "Server", subcommands: [ServerCommand.self, DevCommand.self, StoreCommand.self]),
            CommandGroup(name: "Definitions", subcommands: [DefCommand.self]),
            CommandGroup(name: "Start and act on runs", subcommands: [
                StartCommand.self, ExecuteCommand.self, SignalCommand.self, CancelCommand.self, TerminateCommand.self,
            ]),
            CommandGroup(name: "Read runs", subcommands: [
                WatchCommand.self, AwaitCommand.self, DescribeCommand.self, QueryCommand.self, HistoryCommand.self, ListCommand.self,
                CountCommand.self,
            ]),
            CommandGroup(name: "Operations", subcommands: [BreakersCommand.self, InfoCommand.self, TokenCommand.self]),
        ]
    )

    /// Parses and runs a subcommand, mapping failures to the documented exit codes
    /// (argument errors exit 2, not ArgumentParser's 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            // Ids and names echoed from the command line or the server never put control characters
            // on the terminal: they are shown escaped.
            Output.errorLine("baton: " + CLIFailure.escapingControlCharacters(failure.line))
            Foundation.exit(failure.exitCode)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Output.errorLine("baton: " + usageLine(for: error))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }

    /// A usage error in one line: ArgumentParser's message and where to find help.
    static func usageLine(for error: any Error) -> String {
        let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
        let full = fullMessage(for: error)
        guard let see = full.range(of: "See '"), let end = full[see.upperBound...].firstIndex(of: "'") else {
            return message + " (see 'baton --help')"
        }
        return message + " (see '" + full[see.upperBound..<end] + "')"
    }
}
