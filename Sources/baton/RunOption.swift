import ArgumentParser

/// `-r, --run-id`: which run of a workflow id a command addresses (default: its latest run).
struct RunOption: ParsableArguments {
    @Option(name: [.customShort("r"), .customLong("run-id")], help: ArgumentHelp(
        "A run of the workflow id (default: its latest run); 'baton list' shows run ids.", valueName: "run-id"))
    var runID: String?

    func validate() throws {
        if let runID, runID.isEmpty { throw ValidationError("--run-id must not be empty") }
    }

    /// The run id for a request (empty: the latest run).
    var value: String { runID ?? "" }

    /// ` (run R)` when a run was named, for messages.
    var suffix: String { runID.map { " (run \($0))" } ?? "" }
}
