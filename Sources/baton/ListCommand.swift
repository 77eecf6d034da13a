import ArgumentParser
import BatonClient
import BatonProto

/// `baton list`: runs, newest first, filtered by status, definition and start time.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List workflows, newest first.",
        discussion: """
            Each run of a workflow id is listed with its run id (a closed run replaced by a newer run of \
            the same id stays listed and readable with --run-id). With -o jsonl: one WorkflowInfo per line.
            """
    )

    @OptionGroup var filter: WorkflowFilter

    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "At most this many workflows (0: all).")
    var limit: Int = 50

    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more (got \(limit))") }
    }

    func run() async throws {
        let template = try filter.request()
        let workflows = try await client.withClient { baton in
            try await Self.fetch(baton, template, limit: limit, client: client)
        }
        if client.json {
            for workflow in workflows { try Output.json(workflow) }
            return
        }
        guard !workflows.isEmpty else { return Output.line("no workflows") }
        var table = Table(header: ["WORKFLOW ID", "RUN ID", "DEFINITION", "STATUS", "STARTED", "CLOSED"])
        for info in workflows {
            table.rows.append([
                info.workflowID, info.runID.isEmpty ? "-" : info.runID, "\(info.definition.name) v\(info.definition.version)",
                Formatting.status(info.status), Formatting.time(info.hasStartTime ? info.startTime : nil),
                Formatting.time(info.hasCloseTime ? info.closeTime : nil),
            ])
        }
        table.print()
    }

    /// Pages through ListWorkflows with `template`'s filters until `limit` runs (0: all) are read.
    static func fetch(
        _ baton: BatonClient, _ template: Baton_V1_ListWorkflowsRequest, limit: Int, client: ClientOptions
    ) async throws -> [Baton_V1_WorkflowInfo] {
        var found: [Baton_V1_WorkflowInfo] = []
        var token = ""
        repeat {
            var request = template
            request.pageSize = Int32(limit == 0 ? 1000 : min(1000, limit - found.count))
            request.pageToken = token
            let page = try await client.call("list workflows") { try await baton.listWorkflows(request) }
            found += page.workflows
            token = page.nextPageToken
        } while !token.isEmpty && (limit == 0 || found.count < limit)
        return limit == 0 ? found : Array(found.prefix(limit))
    }
}
