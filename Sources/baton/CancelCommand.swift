import ArgumentParser

/// `baton cancel ID`: requests cancellation (running attempts are asked to stop, then compensation).
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Request a workflow's cancellation (compensations run if the definition has them)."
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @Option(name: .long, help: "Why, recorded in the history.")
    var reason: String?

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { baton in
            try await client.call("cancel \(workflowID)") { try await baton.cancel(workflowID, reason: reason ?? "", runID: run.value) }
        }
        if client.json { return Output.line("{}") }
        Output.line("cancellation requested for \(workflowID)")
    }
}
