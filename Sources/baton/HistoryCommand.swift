import ArgumentParser
import BatonProto

/// `baton history ID`: every event of a run, paging through GetHistory.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Print a workflow's history, one event per line.",
        discussion: """
            Each line: event id, time, type, attributes. With --json: one HistoryEvent per line. With \
            --follow, new events keep coming until the workflow closes.
            """
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @Option(name: .long, parsing: .unconditional, help: "Events fetched per call (1 to 1000).")
    var pageSize: Int32 = 200

    @Flag(name: .long, help: "Keep printing new events as they are recorded, until the run closes (WatchHistory).")
    var follow = false

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size must be between 1 and 1000") }
    }

    func run() async throws {
        if follow { return try await runFollowing() }
        try await client.withClient { baton in
            var token = ""
            repeat {
                let request = Baton_V1_GetHistoryRequest.with {
                    $0.workflowID = workflowID
                    $0.runID = run.value
                    $0.pageSize = pageSize
                    $0.pageToken = token
                }
                let page = try await client.call("history \(workflowID)") { try await baton.history(request) }
                for event in page.events {
                    if client.json { try Output.json(event) } else { Output.line(Self.line(event)) }
                }
                // An open run always hands out a token; an empty page means every event so far was read.
                if page.events.isEmpty { break }
                token = page.nextPageToken
            } while !token.isEmpty
        }
    }

    /// Streams the history with WatchHistory: past events, then each new one until the run closes.
    private func runFollowing() async throws {
        try await client.withClient { baton in
            try await client.call("history \(workflowID)") {
                for try await event in baton.watchHistory(workflowID, runID: run.value) {
                    if client.json { try Output.json(event) } else { Output.line(Self.line(event)) }
                }
            }
        }
    }

    /// `   7  2026-11-25T08:39:08.123Z  StepCompleted         attempt=1 output={"n":1} step=a`.
    static func line(_ event: Baton_V1_HistoryEvent) -> String {
        let type = event.type.padding(toLength: max(event.type.count, 22), withPad: " ", startingAt: 0)
        let attributes = Formatting.attributes(of: event)
        let text = "\(String(event.eventID).leftPadded(to: 4))  \(Formatting.time(event.hasTime ? event.time : nil))  \(type)"
        return attributes.isEmpty ? text.trimmingTrailingSpaces : text + "  " + attributes
    }
}
