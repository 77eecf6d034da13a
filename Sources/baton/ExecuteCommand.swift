import ArgumentParser
import BatonProto

/// `baton execute NAME`: starts a run, waits for it to close (following its server-streamed
/// progress), prints its output and exits by its status — a workflow as a command.
struct ExecuteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execute",
        abstract: "Start a workflow, wait until it closes, and print its output.",
        discussion: """
            Prints the output as compact JSON on stdout (null when there is none) and exits 0 when the \
            run completed; otherwise prints how it ended on stderr and exits 6. While the run waits for a \
            signal, stderr says which one and how to send it. --id, --input, --version and --if-exists \
            work as for 'baton start'.
            """
    )

    @OptionGroup var start: StartOptions

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let request = try start.request()
        let code = try await client.withClient { baton in
            let response = try await client.call("execute \(start.definition)") { try await baton.startWorkflow(request) }
            var watcher = ProgressWatcher(options: client, workflowID: response.workflowID, runID: response.runID)
            watcher.quiet = true
            return try await watcher.run(baton)
        }
        if code != 0 { throw ExitCode(code) }
    }
}
