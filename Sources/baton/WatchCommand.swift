import ArgumentParser

/// `baton watch ID`: live progress until the run closes; the exit code tells how it ended.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a workflow's progress until it closes.",
        discussion: """
            On a terminal: a progress bar with percentage, phase and ETA, redrawn in place. Otherwise: one \
            line per change, e.g. '42% phase=research running=a,b eta=12s'. Exits 0 when the workflow \
            completes, 6 when it ends failed, cancelled, terminated or compensated.
            """
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let code = try await client.withClient { baton in
            try await ProgressWatcher(options: client, workflowID: workflowID, runID: run.value).run(baton)
        }
        if code != 0 { throw ExitCode(code) }
    }
}
