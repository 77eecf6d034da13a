import ArgumentParser
import BatonProto

/// `baton describe ID`: a run's summary and a table of its steps.
struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show a workflow's status, input, output and steps."
    )

    @Argument(help: "The workflow id.")
    var workflowID: String

    @OptionGroup var run: RunOption

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let response = try await client.withClient { baton in
            try await client.call("describe \(workflowID)") { try await baton.describe(workflowID, runID: run.value) }
        }
        if client.json { return try Output.json(response) }
        for line in Self.render(response.workflow) { Output.line(line) }
    }

    /// The description as lines: a summary, then the step table.
    static func render(_ workflow: Baton_V1_WorkflowDescription) -> [String] {
        let info = workflow.info
        var summary = Table(header: ["workflow", info.workflowID])
        if !info.runID.isEmpty { summary.rows.append(["run", info.runID]) }
        if !info.traceID.isEmpty { summary.rows.append(["trace", info.traceID]) }
        summary.rows.append(["definition", "\(info.definition.name) v\(info.definition.version)"])
        summary.rows.append(["status", Formatting.status(info.status)])
        summary.rows.append(["started", Formatting.time(info.hasStartTime ? info.startTime : nil)])
        if info.hasCloseTime { summary.rows.append(["closed", Formatting.time(info.closeTime)]) }
        if workflow.hasInput { summary.rows.append(["input", Output.compactJSON(workflow.input)]) }
        if workflow.hasOutput { summary.rows.append(["output", Output.compactJSON(workflow.output)]) }
        if workflow.hasFailure { summary.rows.append(["failure", Formatting.failure(workflow.failure)]) }
        summary.rows.append(["events", String(info.lastEventID)])
        var lines = summary.lines
        guard !workflow.steps.isEmpty else { return lines }
        var steps = Table(header: ["STEP", "STATUS", "ATTEMPTS", "PHASE", "KIND", "DOES", "LAST FAILURE"])
        var waits: [String] = []
        for step in workflow.steps {
            // KIND is always the step kind; DOES what it runs or waits for.
            let does = !step.activity.isEmpty ? step.activity : !step.signal.isEmpty ? "signal \(step.signal)" : "-"
            steps.rows.append([
                step.name, Formatting.status(step.status), String(step.attempts),
                step.phase.isEmpty ? "-" : step.phase, step.kind.isEmpty ? "-" : step.kind, does,
                step.hasLastFailure ? Formatting.failure(step.lastFailure) : "-",
            ])
            if let hint = Formatting.waitHint(step, workflowID: info.workflowID) {
                waits.append(hint)
            } else if step.status == .running, step.kind == "sleep", step.hasWaitDeadline {
                waits.append("sleeping until \(Formatting.time(step.waitDeadline)) (step \(step.name))")
            }
        }
        lines.append("")
        lines += steps.lines
        if !waits.isEmpty { lines += [""] + waits }
        return lines
    }
}
