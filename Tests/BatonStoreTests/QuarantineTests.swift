import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

/// One unreadable record never stops a recovery: the run is quarantined (CORRUPTED, rows untouched)
/// and every other run is served; `StoreChecker` names it.
@Suite(.timeLimit(.minutes(5))) struct QuarantineTests {
    static let gate = "name: gate\nsteps:\n  w: { wait_for_signal: go }\n"

    @Test func anUndecodableSnapshotIsQuarantinedAndTheOtherRunsAreServed() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 1_000))
        let first = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        _ = try await first.register(source: Self.gate)
        _ = try await first.startWorkflow("gate", workflowID: "good", input: ["n": 1])
        _ = try await first.startWorkflow("gate", workflowID: "bad", input: ["n": 2])
        await first.close()

        // Damage one snapshot on disk (as a bug or a bit flip would).
        let connection = try SQLiteConnection(path: temp.path)
        _ = try connection.run("UPDATE workflows SET snapshot = ? WHERE id = 'bad'", [.blob([1, 0x7b, 0x22])])
        let damaged = try connection.query("SELECT snapshot FROM workflows WHERE id = 'bad'") { $0.blob(0) }

        let second = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        let quarantined = second.quarantinedWorkflows()
        #expect(Set(quarantined.keys) == ["bad"])
        #expect(quarantined["bad"]?.error.contains("snapshot") == true)
        let described = try await second.describe("bad")
        #expect(described.status == .corrupted)
        #expect(described.state.definitionName == "gate")
        await #expect(throws: BatonError.self) { try await second.signal("bad", name: "go") }
        // The healthy run is served and finishes.
        try await second.signal("good", name: "go")
        let good = try await second.awaitCompletion("good")
        #expect(good.status == .completed && good.state.input == ["n": 1])
        await second.close()
        // The quarantined row was left as it was.
        #expect(try connection.query("SELECT snapshot FROM workflows WHERE id = 'bad'") { $0.blob(0) } == damaged)

        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let report = try await StoreChecker(store: store).run()
        #expect(report.checked == 2)
        #expect(report.problems.map(\.workflowID) == ["bad"])
        #expect(report.problems.first?.message.contains("snapshot does not decode") == true)
    }

    @Test func theCheckerFindsAHistoryThatNoLongerFoldsToItsSnapshot() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 1_000))
        let runtime = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        _ = try await runtime.register(source: Self.gate)
        _ = try await runtime.startWorkflow("gate", workflowID: "a")
        _ = try await runtime.startWorkflow("gate", workflowID: "b")
        try await runtime.signal("b", name: "go")
        _ = try await runtime.awaitCompletion("b")
        await runtime.close()

        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        #expect(try await StoreChecker(store: store).run().isHealthy)
        _ = try store.read { connection throws(BatonError) in
            try connection.run("DELETE FROM events WHERE workflow_id = 'b' AND event_id = 2")
        }
        let report = try await StoreChecker(store: store).run()
        #expect(report.problems.map(\.workflowID) == ["b"])
        #expect(report.problems.first?.message.contains("not contiguous") == true)
    }
}
