import BatonCore
import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct StartPolicyTests {
    @Test func startTellsWhetherARunStartedAndAppliesTheReusePolicy() async throws {
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let first = try await runtime.startWorkflow("gated", workflowID: "order-7", input: ["product": "A"])
        #expect(first == StartedWorkflow(id: "order-7", started: true, definition: DefinitionRef(name: "gated", version: 1)))
        // Open: every policy but reject returns the existing run.
        #expect(try await runtime.startWorkflow("gated", workflowID: "order-7").started == false)
        #expect(try await runtime.startWorkflow("gated", workflowID: "order-7", policy: .allowAfterClose).started == false)
        await #expect(throws: BatonError.self) { try await runtime.startWorkflow("gated", workflowID: "order-7", policy: .reject) }

        try await runtime.terminate("order-7")
        // Closed: return_existing still returns it; allow_after_close starts a new run and archives the old one.
        #expect(try await runtime.startWorkflow("gated", workflowID: "order-7").started == false)
        let again = try await runtime.startWorkflow("gated", workflowID: "order-7", input: ["product": "B"], policy: .allowAfterClose)
        #expect(again.started)
        let current = try await runtime.describe("order-7")
        #expect(current.status == .running)
        #expect(current.state.input == ["product": "B"])
        let history = try await runtime.history("order-7")
        #expect(history.first?.kind == .workflowStarted(definition: "gated", version: 1, input: ["product": "B"]))
        let archivedID = try #require(store.archivedRuns("order-7").first)
        let archived = try await runtime.describe(archivedID)
        #expect(archived.status == .terminated)
        #expect(archived.workflowID == archivedID)
        #expect(try await runtime.history(archivedID).last?.kind.typeName == "WorkflowTerminated")
        try await runtime.terminate("order-7")
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
