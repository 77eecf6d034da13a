import BatonCore
@testable import BatonEngine
import Testing

private let undoable = """
    name: undoable
    on_failure: compensate
    steps:
      book: { activity: builtin.echo, input: { id: 1 }, compensate: { activity: builtin.echo, input: { undo: 1 } } }
      approve: { wait_for_signal: { name: go }, depends_on: [book] }
      ship: { activity: builtin.echo, depends_on: [approve] }
    """

@Suite(.timeLimit(.minutes(2))) struct StepReportTests {
    /// Follows the run until `step` is reported as `report`.
    private func waitUntil(_ runtime: WorkflowRuntime, _ id: String, _ step: String, is report: StepReport) async throws {
        for try await update in runtime.subscribe(id) where update.state.report(ofStep: step) == report { return }
        Issue.record("the run closed before \(step) was \(report)")
    }

    @Test func stepsTellTheTruthAfterACancelThatCompensates() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: undoable)
        let id = try await runtime.startWorkflow("undoable").id
        try await waitUntil(runtime, id, "approve", is: .running)
        try await runtime.cancel(id)
        let closed = try await runtime.awaitCompletion(id)
        #expect(closed.status == .cancelled)
        let state = try await runtime.stateAndDefinition(id).0
        #expect(state.report(ofStep: "book") == .compensated)
        #expect([.cancelled, .failed].contains(state.report(ofStep: "approve")))
        #expect(state.report(ofStep: "ship") == .pending)
        let steps = try await runtime.query(id, "steps")
        #expect(steps.lookup(["0", "status"]) == "compensated")
        await runtime.shutdown()
    }

    @Test func aTerminatedRunLeavesNoStepRunning() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: undoable)
        let id = try await runtime.startWorkflow("undoable").id
        try await waitUntil(runtime, id, "approve", is: .running)
        try await runtime.terminate(id)
        _ = try await runtime.awaitCompletion(id)
        let state = try await runtime.stateAndDefinition(id).0
        #expect(state.report(ofStep: "book") == .completed)  // terminate compensates nothing
        #expect(state.report(ofStep: "approve") == .cancelled)
        #expect(try await runtime.query(id, "steps").lookup(["1", "status"]) == "cancelled")
        await runtime.shutdown()
    }
}

@Suite(.timeLimit(.minutes(1))) struct BuiltinActivitiesTests {
    @Test func theNamesTheReaderAcceptsAreExactlyTheOnesTheServerRuns() {
        let activities = InProcessActivities(clock: ManualClock())
        for name in BuiltinActivities.names { #expect(activities.startsOnDispatch(name), "\(name)") }
        #expect(!activities.startsOnDispatch("builtin.nope"))
    }
}
