import BatonClient
import BatonProto
import BatonRPC
import Foundation

/// Follows a run's StreamProgress until it closes (resuming from the last event id when the
/// connection drops) and turns the outcome into an exit code (`baton watch`, `baton start --watch`).
struct ProgressWatcher {
    /// The connection options (for error messages and `--json`).
    let options: ClientOptions
    /// The workflow to follow.
    let workflowID: String
    /// Its run (empty: the latest).
    var runID = ""
    /// `baton execute`: no progress lines, the hints on stderr, and only the output on stdout.
    var quiet = false

    /// Streams progress to stdout; returns 0 when the run completed, 6 when it ended otherwise.
    func run(_ baton: BatonClient) async throws -> Int32 {
        let renderer = ProgressRenderer(json: options.json, quiet: quiet)
        var last: Baton_V1_Progress?
        var retries = 0
        var hinted: Set<String> = []
        while true {
            do {
                for try await progress in baton.streamProgress(workflowID, afterEventID: last?.eventID ?? 0, runID: runID) {
                    retries = 0
                    last = progress
                    try renderer.show(progress)
                    // No estimate while running: the run may wait for someone. Say for what, and how.
                    if !options.json, progress.status == .running, !progress.hasEta {
                        for hint in await waitHints(baton) where hinted.insert(hint).inserted {
                            if quiet { Output.errorLine("baton: " + hint) } else { renderer.note(hint) }
                        }
                    }
                }
                if let last, last.status != .running, last.status != .unspecified { break }
                throw RPCError(code: .unavailable, message: "the progress stream ended before the workflow closed")
            } catch let error as RPCError where error.code == .unavailable && last != nil && retries < 10 {
                // Reconnect and resume after the last event seen.
                retries += 1
                try await Task.sleep(for: .seconds(1))
            } catch {
                renderer.finish()
                throw CLIFailure.call("watch \(workflowID)", address: options.resolvedAddress, error: error)
            }
        }
        renderer.finish()
        guard let final = last else { return ExitStatus.other }
        if final.status == .completed {
            if !options.json || quiet, let description = try? await baton.describe(workflowID, runID: runID) {
                if quiet {
                    // `execute` prints the output alone (null when the run has none), ready for a pipe.
                    Output.line(description.workflow.hasOutput ? Output.compactJSON(description.workflow.output) : "null")
                } else if description.workflow.hasOutput {
                    Output.line("output " + Output.compactJSON(description.workflow.output))
                }
            }
            return ExitStatus.success
        }
        var reason = ""
        if let description = try? await baton.describe(workflowID, runID: runID), description.workflow.hasFailure {
            reason = ": " + Formatting.failure(description.workflow.failure)
        }
        Output.errorLine("baton: workflow \(workflowID) ended \(Formatting.status(final.status))\(reason)")
        return ExitStatus.workflowUnsuccessful
    }

    /// One line per step that waits for a signal now: its name, its deadline and the command that sends it.
    private func waitHints(_ baton: BatonClient) async -> [String] {
        guard let description = try? await baton.describe(workflowID, runID: runID) else { return [] }
        return description.workflow.steps.compactMap { Formatting.waitHint($0, workflowID: workflowID) }
    }
}
