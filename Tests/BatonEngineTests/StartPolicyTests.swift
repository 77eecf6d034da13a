import BatonCore
import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct StartPolicyTests {
    @Test func startTellsWhetherARunStartedAndAppliesTheReusePolicy() async throws {
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let first = try await runtime.startWorkflow("gated", workflowID: "order-7", input: ["product": "A"])
        #expect(first.id == "order-7" && first.started && first.definition == DefinitionRef(name: "gated", version: 1))
        #expect(first.previousRunID == nil)
        #expect(RunKey.isValidRunID(first.runID) && first.runID.count == 36)
        // Open: every policy but reject returns the existing run (and its run id).
        let returned = try await runtime.startWorkflow("gated", workflowID: "order-7")
        #expect(returned.started == false && returned.runID == first.runID)
        #expect(try await runtime.startWorkflow("gated", workflowID: "order-7", policy: .allowAfterClose).started == false)
        await #expect(throws: BatonError.self) { try await runtime.startWorkflow("gated", workflowID: "order-7", policy: .reject) }

        try await runtime.terminate("order-7")
        // Closed: return_existing still returns it; allow_after_close starts a new run and archives the old one.
        #expect(try await runtime.startWorkflow("gated", workflowID: "order-7").started == false)
        let again = try await runtime.startWorkflow("gated", workflowID: "order-7", input: ["product": "B"], policy: .allowAfterClose)
        #expect(again.started)
        #expect(again.runID != first.runID)
        #expect(again.previousRunID == first.runID)
        let current = try await runtime.describe("order-7")
        #expect(current.status == .running)
        #expect(current.state.input == ["product": "B"])
        #expect(current.state.publicRunID == again.runID)
        let history = try await runtime.history("order-7")
        guard case .workflowStarted("gated", 1, ["product": "B"], again.runID, let trace?)? = history.first?.kind else {
            Issue.record("the new run's WorkflowStarted: \(String(describing: history.first?.kind))")
            return
        }
        #expect(trace.traceID.count == 32 && trace.parentSpanID == nil, "a run started without a caller's span roots a new trace")
        // The closed run keeps its run id and is addressed by it.
        #expect(store.archivedRuns("order-7") == [RunKey.archived("order-7", runID: first.runID)])
        let archivedKey = try await runtime.runKey("order-7", runID: first.runID)
        #expect(archivedKey == "order-7/\(first.runID)")
        #expect(try await runtime.runKey("order-7", runID: again.runID) == "order-7")
        #expect(try await runtime.runKey("order-7", runID: nil) == "order-7")
        let archived = try await runtime.describe(archivedKey)
        #expect(archived.status == .terminated)
        #expect(archived.state.publicWorkflowID == "order-7" && archived.state.publicRunID == first.runID)
        #expect(try await runtime.history(archivedKey).last?.kind.typeName == "WorkflowTerminated")
        await #expect(throws: BatonError.self) { try await runtime.runKey("order-7", runID: "no-such-run") }
        await #expect(throws: BatonError.self) { try await runtime.runKey("order-7", runID: "a/b") }
        // An input for the closed run never reaches the id's new run.
        do {
            try await runtime.signal(archivedKey, name: "go", runID: first.runID)
            Issue.record("a signal to the closed run succeeded")
        } catch {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("run '\(first.runID)' of workflow 'order-7' is closed"))
        }
        do {
            try await runtime.terminate("order-7", runID: first.runID)
            Issue.record("terminating the closed run by the latest key succeeded")
        } catch {
            #expect(error.code == .failedPrecondition)
        }
        #expect(try await runtime.describe("order-7").status == .running)
        try await runtime.terminate("order-7", runID: again.runID)
        #expect(try await runtime.describe("order-7").status == .terminated)
        await runtime.shutdown()
    }

    @Test func anIDTakenByAnotherDefinitionIsAlreadyExists() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        _ = try await runtime.register(source: "name: other\nsteps:\n  a: { wait_for_signal: { name: go } }\n")
        _ = try await runtime.startWorkflow("gated", workflowID: "order-8")
        do {
            _ = try await runtime.startWorkflow("other", workflowID: "order-8")
            Issue.record("a start of another definition under an open id returned the existing run")
        } catch {
            #expect(error.code == .alreadyExists)
            #expect(error.message.contains("'gated'") && error.message.contains("'other'"))
        }
        // The same definition still gets its run back.
        #expect(try await runtime.startWorkflow("gated", workflowID: "order-8").started == false)
        await runtime.shutdown()
    }

    @Test func signalsToClosedWorkflowsAreAClearFailedPrecondition() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        #expect(try await runtime.signal(id, name: "noise", requestID: "r-1"))
        #expect(try await runtime.signal(id, name: "noise", requestID: "r-1") == false)
        #expect(try await runtime.signal(id, name: "noise"))
        try await runtime.cancel(id, reason: "test")
        do {
            try await runtime.signal(id, name: "one")
            Issue.record("signal to a closed workflow succeeded")
        } catch {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("closed (CANCELLED)"))
        }
        await #expect(throws: BatonError.self) { try await runtime.cancel(id) }
        await runtime.shutdown()
    }
}
