import ArgumentParser
import BatonProto

/// `baton list`: runs, newest first, filtered by status and definition.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List workflows, newest first.",
        discussion: "With --json: one WorkflowInfo per line."
    )

    @Option(name: .long, help: ArgumentHelp(
        "Only workflows in this status: \(Formatting.statusNames.joined(separator: ", ")).", valueName: "status"))
    var status: String?

    @Option(name: .long, help: ArgumentHelp("Only workflows of this definition.", valueName: "name"))
    var definition: String?

    @Option(name: .long, help: "At most this many workflows (0: all).")
    var limit: Int = 50

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if let status, Formatting.parseStatus(status) == nil {
            throw ValidationError("--status: unknown status '\(status)'; use one of \(Formatting.statusNames.joined(separator: ", "))")
        }
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
    }

    func run() async throws {
        let workflows = try await client.withClient { baton in
            var found: [Baton_V1_WorkflowInfo] = []
            var token = ""
            repeat {
                let remaining = limit == 0 ? 1000 : min(1000, limit - found.count)
                let request = Baton_V1_ListWorkflowsRequest.with {
                    $0.status = status.flatMap(Formatting.parseStatus) ?? .unspecified
                    $0.definition = definition ?? ""
                    $0.pageSize = Int32(remaining)
                    $0.pageToken = token
                }
                let page = try await client.call("list workflows") { try await baton.listWorkflows(request) }
                found += page.workflows
                token = page.nextPageToken
            } while !token.isEmpty && (limit == 0 || found.count < limit)
            return limit == 0 ? found : Array(found.prefix(limit))
        }
        if client.json {
            for workflow in workflows { try Output.json(workflow) }
            return
        }
        guard !workflows.isEmpty else { return Output.line("no workflows") }
        var table = Table(header: ["WORKFLOW ID", "DEFINITION", "STATUS", "STARTED", "CLOSED"])
        for info in workflows {
            table.rows.append([
                info.workflowID, "\(info.definition.name) v\(info.definition.version)", Formatting.status(info.status),
                Formatting.time(info.hasStartTime ? info.startTime : nil), Formatting.time(info.hasCloseTime ? info.closeTime : nil),
            ])
        }
        table.print()
    }
}
