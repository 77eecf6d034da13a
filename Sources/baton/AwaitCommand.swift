import ArgumentParser
import BatonClient
import BatonProto
import BatonRPC

/// `baton await ID`: waits (AwaitWorkflow, one unary call) until the run closes and prints its output.
struct AwaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "await",
        abstract: "Wait until a workflow closes and print its output.",
        discussion: """
            Prints the output as compact JSON on stdout (null when there is none) and exits 0 when the run \
            completed; otherwise prints how it ended on stderr and exits 6. With --timeout, a run still open \
            then is an error (DEADLINE_EXCEEDED, exit 1); without, it waits as long as the run takes.
            """
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @OptionGroup var run: RunOption

    @Option(name: [.customShort("t"), .long], help: ArgumentHelp(
        "Give up after this long: 500ms, 30s, 5m, 2h (default: no limit).", valueName: "duration"))
    var timeout: String?

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if let timeout { _ = try Self.duration(timeout) }
    }

    func run() async throws {
        let limit = try timeout.map(Self.duration)
        let code = try await client.withClient { baton in
            try await Self.awaitAndPrint(baton, workflowID: workflowID, runID: run.value, timeout: limit,
                                         what: "await \(workflowID)\(run.suffix)", client: client)
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Awaits the run, prints its output (or, with `-o`, the whole response) and returns the exit code:
    /// 0 when it completed, 6 with how it ended on stderr otherwise.
    static func awaitAndPrint(
        _ baton: BatonClient, workflowID: String, runID: String, timeout: Duration?, what: String, client: ClientOptions
    ) async throws -> Int32 {
        let response = try await client.call(what) {
            try await baton.awaitWorkflow(workflowID, runID: runID, timeout: timeout)
        }
        let workflow = response.workflow
        if client.json {
            try Output.json(response)
        } else if workflow.info.status == .completed {
            Output.line(workflow.hasOutput ? Output.compactJSON(workflow.output) : "null")
        }
        guard workflow.info.status == .completed else {
            let reason = workflow.hasFailure ? ": " + Formatting.failure(workflow.failure) : ""
            Output.errorLine("baton: workflow \(workflowID) ended \(Formatting.status(workflow.info.status))\(reason)")
            return ExitStatus.workflowUnsuccessful
        }
        return ExitStatus.success
    }

    /// `500ms`, `30s`, `5m`, `2h`: a positive duration.
    static func duration(_ text: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (unit, seconds) in units where text.hasSuffix(unit) {
            if let count = Double(text.dropLast(unit.count)), count > 0, count.isFinite {
                return .milliseconds(Int64((count * seconds * 1000).rounded(.up)))
            }
        }
        throw ValidationError("--timeout: expected a positive duration like 500ms, 30s, 5m or 2h, got '\(text)'")
    }
}
