import ArgumentParser
import BatonProto
import SwiftProtobuf

/// `baton count`: how many runs match the filters of `baton list`.
struct CountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count workflows (the filters of 'baton list').",
        discussion: "Prints the number; with --by-status, one line per status and the total. With -o jsonl: {\"count\": N}."
    )

    @OptionGroup var filter: WorkflowFilter

    @Flag(name: .long, help: "One count per status.")
    var byStatus = false

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let template = try filter.request()
        let workflows = try await client.withClient { baton in
            try await ListCommand.fetch(baton, template, limit: 0, client: client)
        }
        var counts: [String: Int] = [:]
        for info in workflows { counts[Formatting.status(info.status), default: 0] += 1 }
        if client.json {
            var object = Google_Protobuf_Struct()
            object.fields["count"] = Google_Protobuf_Value(numberValue: Double(workflows.count))
            if byStatus {
                var groups = Google_Protobuf_Struct()
                for (status, count) in counts { groups.fields[status] = Google_Protobuf_Value(numberValue: Double(count)) }
                object.fields["by_status"] = Google_Protobuf_Value(structValue: groups)
            }
            return try Output.json(Google_Protobuf_Value(structValue: object))
        }
        guard byStatus else { return Output.line(String(workflows.count)) }
        var table = Table(header: ["STATUS", "COUNT"])
        for (status, count) in counts.sorted(by: { $0.key < $1.key }) { table.rows.append([status, String(count)]) }
        table.rows.append(["total", String(workflows.count)])
        table.print()
    }
}
