import BatonCore
import BatonEngine
import BatonStore
import Testing

/// A full disk: calls get RESOURCE_EXHAUSTED, nothing acknowledged is lost, and once commits succeed
/// again every acknowledged run continues without a restart.
@Suite(.timeLimit(.minutes(5))) struct FailedCommitRecoveryTests {
    static let chain = """
        name: chain
        steps:
          a: { activity: builtin.echo, input: { n: "${input.n}" } }
          b: { activity: builtin.echo, depends_on: [a], input: { n: "${steps.a.output.n}" } }
          c: { activity: builtin.echo, depends_on: [b], input: { n: "${steps.b.output.n}" } }
        output: { n: "${steps.c.output.n}" }
        """
    static let diskFull = BatonError(.resourceExhausted, "the disk is full (injected)")

    /// A runtime over a fault-injecting SQLite store in `temp`, with `chain` registered.
    static func runtime(_ temp: TempDatabase) async throws -> (HeldCommitStore, WorkflowRuntime) {
        let store = HeldCommitStore(try SQLiteWorkflowStore(path: temp.path))
        let runtime = WorkflowRuntime(store: store, clock: ManualClock(start: .epoch))
        try await runtime.recover()
        _ = try await runtime.register(source: chain)
        return (store, runtime)
    }

    @Test func aStartThatCannotBeStoredIsRefusedAndLeavesNothing() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let (store, runtime) = try await Self.runtime(temp)
        store.failNextCommits(1, with: Self.diskFull)
        do {
            _ = try await runtime.startWorkflow("chain", workflowID: "refused", input: ["n": 1])
            Issue.record("a start whose commit failed was acknowledged")
        } catch {
            #expect(error.code == .resourceExhausted)
        }
        await #expect(throws: BatonError.self) { try await runtime.describe("refused") }
        // The same start succeeds once the store takes commits again.
        #expect(try await runtime.startWorkflow("chain", workflowID: "refused", input: ["n": 1]).started)
        #expect(try await runtime.awaitCompletion("refused").state.output == ["n": 1])
        await runtime.shutdown()
        store.inner.close()
    }

    @Test func aRunWhoseResultsCouldNotBeStoredContinuesWithoutARestart() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let (store, runtime) = try await Self.runtime(temp)
        // The next three commits fail: the start is stored, then results cannot be, three times over.
        store.hold()
        var held = store.heldCommits.makeAsyncIterator()
        let started = Task { try await runtime.startWorkflow("chain", workflowID: "kept", input: ["n": 7]) }
        _ = await held.next()
        store.failNextCommits(3, with: Self.diskFull)
        store.release()
        #expect(try await started.value.started)
        // Every acknowledged run continues once commits succeed: restored from the store and re-dispatched.
        // (Followed through a subscription, which never restores a run itself.)
        for try await _ in runtime.subscribe("kept") {}
        let closed = try await runtime.describe("kept")
        #expect(closed.status == .completed)
        #expect(closed.state.output == ["n": 7])
        #expect(runtime.deliveryFailureCount >= 1)
        let history = try await runtime.history("kept")
        #expect(history.map(\.id) == Array(1...Int64(history.count)))
        await runtime.shutdown()
        store.inner.close()
    }

    @Test func sqliteFullIsReportedAsResourceExhausted() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let runtime = WorkflowRuntime(store: store, clock: ManualClock(start: .epoch))
        try await runtime.recover()
        _ = try await runtime.register(source: Self.chain)
        // A database capped at its current size: the next page it needs is refused with SQLITE_FULL.
        let pages = try store.read { connection throws(BatonError) in
            try connection.query("PRAGMA page_count") { $0.integer(0) }.first ?? 1
        }
        try await store.limitSize(toPages: pages)
        let big: JSONValue = ["blob": .string(String(repeating: "x", count: 200_000))]
        do {
            _ = try await runtime.startWorkflow("chain", workflowID: "full", input: big)
            Issue.record("a start the database had no room for was acknowledged")
        } catch {
            #expect(error.code == .resourceExhausted, "\(error)")
            #expect(error.message.contains("disk is full"), "\(error.message)")
        }
        await runtime.shutdown()
    }

    static let gated = """
        name: gated
        steps:
          wait: { wait_for_signal: { name: go, timeout: 24h, on_timeout: fail } }
        output: { got: "${steps.wait.output}" }
        """

    @Test func aRestartWhileTheDiskIsFullServesReadsAndRunsContinueOnceThereIsRoom() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        // First life: a run waiting for a signal, and one whose first result could not be stored
        // (the disk filled up after its start was acknowledged). Then the process goes.
        do {
            let (store, runtime) = try await Self.runtime(temp)
            _ = try await runtime.register(source: Self.gated)
            _ = try await runtime.startWorkflow("gated", workflowID: "waiting", input: .null)
            store.hold()
            var held = store.heldCommits.makeAsyncIterator()
            let started = Task { try await runtime.startWorkflow("chain", workflowID: "interrupted", input: ["n": 3]) }
            _ = await held.next()
            store.setFull(Self.diskFull)
            store.release()
            #expect(try await started.value.started)
            await runtime.shutdown()
            store.inner.close()
        }
        // Second life, the disk still full: recovery succeeds and every read is served.
        let store = HeldCommitStore(try SQLiteWorkflowStore(path: temp.path))
        store.setFull(Self.diskFull)
        let runtime = WorkflowRuntime(store: store, clock: ManualClock(start: .epoch))
        let (failures, reported) = AsyncStream<StoreHealth.Report>.makeStream()
        runtime.storeHealth.observe { reported.yield($0) }
        #expect(try await runtime.recover() == 2)
        #expect(try await runtime.describe("waiting").status == .running)
        #expect(try await runtime.describe("interrupted").status == .running)
        #expect(try await runtime.history("interrupted").count >= 2)
        #expect(try await runtime.query("waiting", "progress") != .null)
        do {
            _ = try await runtime.signal("waiting", name: "go", payload: ["ok": true])
            Issue.record("a signal the store could not record was acknowledged")
        } catch {
            #expect(error.code == .resourceExhausted, "\(error)")
        }
        // The re-dispatched attempt's result cannot be stored either: reported, then space comes back.
        var reports = failures.makeAsyncIterator()
        guard case .failed(let error, _) = await reports.next() else {
            Issue.record("no failed write was reported")
            return
        }
        #expect(error.code == .resourceExhausted)
        store.setFull(nil)
        // Without a restart, the interrupted run completes and the waiting one takes its signal.
        #expect(try await runtime.signal("waiting", name: "go", payload: ["ok": true]))
        #expect(try await runtime.awaitCompletion("interrupted").state.output == ["n": 3])
        #expect(try await runtime.awaitCompletion("waiting").state.output == ["got": ["ok": true]])
        await runtime.shutdown()
        store.inner.close()
    }
}
