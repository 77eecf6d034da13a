import ArgumentParser
import BatonProto

/// `baton start NAME`: starts a run and prints its id; `--watch` then follows its progress.
struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a workflow and print its id.",
        discussion: """
            With --id of a run that is still open, that run is returned instead of starting another \
            (a note says so on stderr); --if-exists chooses otherwise. With --watch, progress follows as \
            in 'baton watch'.
            """
    )

    @OptionGroup var start: StartOptions

    @Flag(name: .long, help: "Follow the run's progress until it closes (exit code as for 'baton watch').")
    var watch = false

    @Flag(name: .long, help: "Wait until the run closes (AwaitWorkflow) and print its output (exit code as for 'baton await').")
    var wait = false

    func validate() throws {
        if watch && wait { throw ValidationError("--watch and --wait are exclusive: --watch follows the progress, --wait only the result") }
    }

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let request = try start.request()
        let code = try await client.withClient { baton in
            let response = try await client.call("start \(start.definition)") { try await baton.startWorkflow(request) }
            if client.json {
                try Output.json(response)
            } else {
                Output.line(response.workflowID)
                if !response.started {
                    Output.errorLine("baton: note: workflow \(response.workflowID) already exists (run \(response.runID)); "
                                     + "it was not started again")
                } else if !response.previousRunID.isEmpty {
                    Output.errorLine("baton: note: started a new run \(response.runID) of \(response.workflowID); its closed run "
                                     + "stays readable with --run-id \(response.previousRunID) (--if-exists reject refuses instead)")
                }
            }
            if wait {
                return try await AwaitCommand.awaitAndPrint(
                    baton, workflowID: response.workflowID, runID: response.runID, timeout: nil,
                    what: "await \(response.workflowID)", client: client)
            }
            guard watch else { return ExitStatus.success }
            return try await ProgressWatcher(options: client, workflowID: response.workflowID, runID: response.runID).run(baton)
        }
        if code != 0 { throw ExitCode(code) }
    }
}
