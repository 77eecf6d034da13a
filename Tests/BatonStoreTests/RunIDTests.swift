import BatonCore
import BatonEngine
import BatonStore
import Testing

/// Run ids in the SQLite store: a reused workflow id keeps its closed run readable by run id, listed
/// beside the new run, across a restart.
@Suite(.timeLimit(.minutes(2))) struct RunIDTests {
    @Test func aClosedRunReplacedByANewRunKeepsItsRunIDAcrossARestart() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 1_000))
        let first = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        _ = try await first.register(source: "name: gate\nsteps:\n  wait: { wait_for_signal: { name: go } }\n")
        let old = try await first.startWorkflow("gate", workflowID: "order-1", input: ["n": 1])
        try await first.terminate("order-1")
        clock.advance(by: .seconds(1))
        let new = try await first.startWorkflow("gate", workflowID: "order-1", input: ["n": 2], policy: .allowAfterClose)
        #expect(new.started && new.previousRunID == old.runID && new.runID != old.runID)
        await first.close()

        let second = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        let store = try #require(second.store as? SQLiteWorkflowStore)
        let listed = try await store.listWorkflows(WorkflowListFilter(), after: nil, limit: 10)
        #expect(listed.map(\.publicWorkflowID) == ["order-1", "order-1"])
        #expect(listed.map(\.runID) == [new.runID, old.runID])
        #expect(listed.map(\.status) == [.running, .terminated])
        let latest = try await second.describe(try await second.runKey("order-1", runID: new.runID))
        #expect(latest.state.input == ["n": 2] && latest.state.publicRunID == new.runID)
        let archived = try await second.describe(try await second.runKey("order-1", runID: old.runID))
        #expect(archived.state.input == ["n": 1] && archived.status == .terminated)
        #expect(archived.state.publicWorkflowID == "order-1" && archived.state.publicRunID == old.runID)
        #expect(try await second.signal("order-1", name: "go", runID: new.runID))
        #expect(try await second.awaitCompletion("order-1").status == .completed)
        await second.close()
    }
}
