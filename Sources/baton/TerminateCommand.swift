import ArgumentParser

/// `baton terminate ID`: stops a run at once, without compensation.
struct TerminateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminate",
        abstract: "Terminate a workflow at once (nothing more runs, no compensation)."
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @Option(name: .long, help: "Why, recorded in the history.")
    var reason: String?

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { baton in
            try await client.call("terminate \(workflowID)") { try await baton.terminate(workflowID, reason: reason ?? "", runID: run.value) }
        }
        if client.json { return Output.line("{}") }
        Output.line("terminated \(workflowID)")
    }
}
