import ArgumentParser

/// `baton query ID [QUERY]`: answers a read-only query (default `progress`) and prints the JSON.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Query a workflow's state and print the JSON answer.",
        discussion: "Built-in queries: progress, state, steps, output; or a named query of the definition."
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @Argument(help: "The query.")
    var query: String = "progress"

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let response = try await client.withClient { baton in
            try await client.call("query \(workflowID) \(query)") { try await baton.query(workflowID, query, runID: run.value) }
        }
        if client.json { return try Output.json(response) }
        Output.line(Output.prettyJSON(response.result))
    }
}
