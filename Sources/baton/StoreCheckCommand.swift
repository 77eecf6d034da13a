import ArgumentParser
import BatonStore
import Foundation

/// `baton store check --data DIR`: verifies every run of the store and prints a report.
struct StoreCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify every run: its snapshot decodes and equals the fold of its history.",
        discussion: """
            Read-only. Prints one line per run that fails a check ('corrupt ID: what is wrong') and a \
            summary ('checked N runs: all healthy' or 'checked N runs: K corrupt'). Exits 0 when every run \
            is healthy, 1 when some run is not, 2 when the store cannot be opened. Run it on a stopped \
            server's data directory, or beside a running one (SQLite WAL readers do not block it).
            """
    )

    @Option(name: .long, help: "The server's data directory (holding baton.sqlite).")
    var data: String

    func run() async throws {
        let path = (data as NSString).appendingPathComponent("baton.sqlite")
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIFailure.usage("store check: no history at '\(path)'")
        }
        let store: SQLiteWorkflowStore
        do {
            store = try SQLiteWorkflowStore(path: path)
        } catch {
            throw CLIFailure.usage("store check: cannot open '\(path)': \(error.message)")
        }
        defer { store.close() }
        let report = try await StoreChecker(store: store).run { id, problem in
            if let problem { Output.line("corrupt \(id): \(problem.message)") }
        }
        if report.isHealthy {
            Output.line("checked \(report.checked) runs: all healthy")
        } else {
            Output.line("checked \(report.checked) runs: \(report.problems.count) corrupt")
            throw ExitCode(ExitStatus.other)
        }
    }
}
