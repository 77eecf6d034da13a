import BatonCore
import BatonEngine
import BatonStore
import Testing

/// Every read path shows a state only after the transaction holding it has committed: while a
/// decision's commit is held open, readers see the state before it; once it commits, the new one.
@Suite(.timeLimit(.minutes(5))) struct CommittedReadsTests {
    static let gate = """
        name: gate
        steps:
          prepare: { activity: builtin.echo, input: { x: 1 } }
          approve: { depends_on: [prepare], wait_for_signal: { name: go, timeout: 1h } }
        output: { ok: "${steps.approve.signal.ok}" }
        """

    /// Every read the runtime offers, as one comparable value.
    struct Reads: Equatable {
        var status: WorkflowStatus
        var lastEventID: Int64
        var progressEventID: Int64
        var output: JSONValue
        var stateQuery: JSONValue
        var steps: JSONValue
        var historyCount: Int

        init(_ runtime: WorkflowRuntime, _ id: String) async throws {
            let description = try await runtime.describe(id)
            status = description.status
            lastEventID = description.state.lastEventID
            progressEventID = try await runtime.progress(id).lastEventID
            output = try await runtime.query(id, "output")
            stateQuery = try await runtime.query(id, "state")
            steps = try await runtime.query(id, "steps")
            historyCount = try await runtime.history(id).count
        }
    }

    @Test func everyReadPathShowsThePreDecisionStateWhileTheCommitIsHeld() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = HeldCommitStore(try SQLiteWorkflowStore(path: temp.path))
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 1_000))
        let runtime = WorkflowRuntime(store: store, clock: clock)
        try await runtime.recover()
        _ = try await runtime.register(source: Self.gate)
        let id = try await runtime.startWorkflow("gate", workflowID: "held").id
        await eventually { (try? await runtime.query(id, "progress"))?["waiting_for_signals"]?["approve"] == "go" }
        let before = try await Reads(runtime, id)
        #expect(before.status == .running)
        #expect(before.historyCount == Int(before.lastEventID))

        var updates = runtime.subscribe(id).makeAsyncIterator()
        let snapshot = try #require(try await updates.next())
        #expect(snapshot.state.lastEventID == before.lastEventID)
        let closing = Task { try await runtime.awaitCompletion(id) }

        store.hold()
        var held = store.heldCommits.makeAsyncIterator()
        let signal = Task { try await runtime.signal(id, name: "go", payload: ["ok": true]) }
        defer { signal.cancel() }
        _ = await held.next()
        // The decision is made (the machine holds the closing events) but not committed: nothing shows it.
        #expect(try await Reads(runtime, id) == before)
        var late = runtime.subscribe(id).makeAsyncIterator()
        let resubscribed = try #require(try await late.next())
        #expect(resubscribed.state.lastEventID == before.lastEventID)
        #expect(resubscribed.progress.status == .running)

        store.release()
        #expect(try await signal.value)
        let after = try await Reads(runtime, id)
        #expect(after.status == .completed)
        #expect(after.output == ["ok": true])
        #expect(after.lastEventID > before.lastEventID)
        #expect(after.historyCount == Int(after.lastEventID))
        let final = try await closing.value
        #expect(final.status == .completed)
        #expect(final.state.lastEventID == after.lastEventID)
        var delivered = snapshot.events
        while let update = try await updates.next() { delivered += update.events }
        #expect(delivered.last?.id == after.lastEventID)
        await runtime.shutdown()
        store.inner.close()
    }

    @Test func aSecondStartOfTheSameIDWaitsForTheFirstToCommit() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = HeldCommitStore(try SQLiteWorkflowStore(path: temp.path))
        let runtime = WorkflowRuntime(store: store, clock: ManualClock(start: .epoch))
        try await runtime.recover()
        _ = try await runtime.register(source: Self.gate)
        store.hold()
        var held = store.heldCommits.makeAsyncIterator()
        let first = Task { try await runtime.startWorkflow("gate", workflowID: "twice") }
        _ = await held.next()
        await #expect(throws: BatonError.self) { try await runtime.describe("twice") }
        let second = Task { try await runtime.startWorkflow("gate", workflowID: "twice") }
        store.release()
        #expect(try await first.value.started)
        let again = try await second.value
        #expect(!again.started)
        #expect(again.definition == DefinitionRef(name: "gate", version: 1))
        await runtime.shutdown()
        store.inner.close()
    }
}
