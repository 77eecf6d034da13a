import ArgumentParser
import BatonProto

/// `baton signal ID SIGNAL`: sends a named signal with an optional JSON payload.
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Send a signal to a workflow.",
        discussion: "A closed workflow answers FAILED_PRECONDITION (exit 5). A repeated --request-id is ignored."
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @Argument(help: "The signal's name, e.g. approve_campaign.")
    var signal: String

    @Option(name: [.customShort("i"), .long],
            help: ArgumentHelp("The payload as JSON, or @FILE to read it from a file.", valueName: "json"))
    var payload: String?

    @Option(name: .long, help: ArgumentHelp("A deduplication key: a repeat of an earlier one is ignored.", valueName: "r"))
    var requestID: String?

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func run() async throws {
        var request = Baton_V1_SignalRequest()
        request.workflowID = workflowID
        request.name = signal
        request.requestID = requestID ?? ""
        request.runID = run.value
        if let payload { request.payload = try Output.parseJSONOption(payload, option: "--payload") }
        let response = try await client.withClient { baton in
            try await client.call("signal \(workflowID) \(signal)") { try await baton.signal(request) }
        }
        if client.json { return try Output.json(response) }
        if response.accepted {
            Output.line("signal \(signal) sent to \(workflowID)")
        } else {
            Output.line("signal \(signal) ignored: request id \(requestID ?? "") was already used")
        }
    }
}
