import BatonCore
import BatonEngine
import BatonStore
import Testing

let threeStepSource = """
    name: three
    steps:
      a: { activity: builtin.echo, input: { n: "${input.n}" } }
      b: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
      c: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
    output: { b: "${steps.b.output.from_a}", c: "${steps.c.output.from_a}" }
    """

@Suite(.timeLimit(.minutes(5))) struct SQLiteStoreTests {
    @Test func migratesAnEmptyFileOnceAndRecordsTheMigrations() throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let connection = try SQLiteConnection(path: temp.path)
        #expect(try Migrations.apply(to: connection, now: .epoch) == Migrations.all.map(\.name))
        #expect(try Migrations.apply(to: connection, now: .epoch).isEmpty)
        let tables = try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.text(0) }
        #expect(tables == ["activity_durations", "activity_tasks", "circuit_breakers", "definitions", "events", "migrations",
                           "signal_dedupe", "timers", "workflows"])
        let withoutRowID = try connection.query("SELECT sql FROM sqlite_master WHERE name = 'events'") { $0.text(0) }
        #expect(withoutRowID.first?.contains("WITHOUT ROWID") == true)
        let recorded = try connection.query("SELECT name FROM migrations") { $0.text(0) }
        #expect(recorded == ["0001_initial", "0002_activity_durations", "0003_snapshot_event_id", "0004_drop_unused_task_columns",
                             "0005_protobuf_history", "0006_circuit_breakers", "0007_run_ids"])
        let taskColumns = try connection.query("SELECT name FROM pragma_table_info('activity_tasks') ORDER BY cid") { $0.text(0) }
        #expect(taskColumns == ["workflow_id", "step", "attempt", "activity", "task_queue", "idempotency_key", "input", "scheduled_at"])
    }

    @Test func opensInWALWithTheRequestedDurability() throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        for (durability, expected) in [(Durability.full, Int64(2)), (.normal, 1)] {
            let store = try SQLiteWorkflowStore(path: temp.path, durability: durability)
            let mode = try store.read { connection throws(BatonError) in
                try connection.query("PRAGMA journal_mode") { $0.text(0) }
            }
            let synchronous = try store.read { connection throws(BatonError) in
                try connection.query("PRAGMA synchronous") { $0.integer(0) }
            }
            #expect(mode == ["wal"])
            #expect(synchronous == [expected])
            store.close()
        }
    }

    @Test func transactionsRollBackWhenTheClosureThrows() throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let connection = try SQLiteConnection(path: temp.path)
        try connection.execute("CREATE TABLE t(x INTEGER)")
        #expect(throws: BatonError.self) {
            try connection.transaction { connection throws(BatonError) in
                try connection.run("INSERT INTO t(x) VALUES (1)")
                throw BatonError(.internal, "abort")
            }
        }
        try connection.transaction { connection throws(BatonError) in try connection.run("INSERT INTO t(x) VALUES (2)") }
        #expect(try connection.query("SELECT x FROM t") { $0.integer(0) } == [2])
    }

    @Test func groupCommitBatchesConcurrentWorkflowsAndEachCallerSeesItsCommit() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path, durability: .normal)
        let runtime = WorkflowRuntime(store: store, clock: ManualClock())
        try await runtime.recover()
        _ = try await runtime.register(source: threeStepSource)
        let count = 300
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<count {
                group.addTask { try await runtime.startWorkflow("three", input: ["n": .number(Double(index))]).id }
            }
            var ids: [String] = []
            for try await id in group {
                #expect(try await store.loadWorkflow(id) != nil, "a start returned before its commit")
                ids.append(id)
            }
            return ids
        }
        for id in ids { #expect(try await runtime.awaitCompletion(id).status == .completed) }
        let statistics = store.writerStatistics
        #expect(statistics.jobs >= count * 4 + 1)
        #expect(statistics.batches < statistics.jobs)
        await runtime.close()
    }

    @Test func rejectedChangesLeaveNothingBehindAndDoNotFailTheirBatch() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        let definition = try DefinitionParser.parse(threeStepSource)
        let (machine, decision) = WorkflowMachine.start(
            workflowID: "w1", definition: definition, version: 1, input: 1, now: .epoch, startsOnDispatch: { _ in false })
        try await store.commit(WorkflowChange(state: machine.state, decision: decision, isNew: true))
        let duplicate = Task { try await store.commit(WorkflowChange(state: machine.state, decision: decision, isNew: true)) }
        let (other, otherDecision) = WorkflowMachine.start(
            workflowID: "w2", definition: definition, version: 1, input: 2, now: .epoch, startsOnDispatch: { _ in false })
        let fine = Task { try await store.commit(WorkflowChange(state: other.state, decision: otherDecision, isNew: true)) }
        await #expect(throws: BatonError.self) { try await duplicate.value }
        try await fine.value
        #expect(try await store.history("w1", afterEventID: 0, limit: 100) == decision.events)
        #expect(try await store.history("w2", afterEventID: 0, limit: 100) == otherDecision.events)
        #expect(try store.storedTaskKeys() == ["w1/a/1", "w2/a/1"])
        store.close()
    }

    @MainActor
    @Test func consecutiveChangesOfOneWorkflowCoalesceIntoOneSnapshotWrite() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        let definition = try DefinitionParser.parse(threeStepSource)
        var (machine, start) = WorkflowMachine.start(workflowID: "w", definition: definition, version: 1, input: ["n": 1], now: .epoch)
        try await store.commit(WorkflowChange(state: machine.state, decision: start, isNew: true))
        var changes: [WorkflowChange] = []
        for step in ["a", "b", "c"] {
            let decision = machine.decide(.activityCompleted(step: step, attempt: 1, output: ["n": 1]), now: .epoch)
            changes.append(WorkflowChange(state: machine.state, decision: decision, isNew: false))
        }
        #expect(machine.state.status == .completed)
        // Queued back to back from one actor, so they commit in order, typically in one transaction.
        let tasks = changes.map { change in Task { @MainActor in try await store.commit(change) } }
        for task in tasks { try await task.value }
        let history = try await store.history("w", afterEventID: 0, limit: 100)
        #expect(history == start.events + changes.flatMap(\.events))
        #expect(try await store.loadWorkflow("w")?.state == machine.state)

        // A change that does not continue the history is rejected, and the row is unchanged.
        var stale = changes[2]
        stale.isNew = false
        await #expect(throws: BatonError.self) { try await store.commit(stale) }
        #expect(try await store.loadWorkflow("w")?.state == machine.state)
        store.close()
    }

    @Test func reopenAfterCloseKeepsDefinitionsHistoryAndSnapshots() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 1_000))
        let first = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        _ = try await first.register(source: threeStepSource)
        _ = try await first.register(source: "name: nap\nsteps:\n  nap: { sleep: 1h }\n  after: { activity: builtin.echo, depends_on: [nap] }\n")
        let done = try await first.startWorkflow("three", workflowID: "done", input: ["n": 5]).id
        _ = try await first.awaitCompletion(done)
        let sleeping = try await first.startWorkflow("nap", workflowID: "sleeping").id
        await first.close()

        let second = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        let store = try #require(second.store as? SQLiteWorkflowStore)
        #expect(try store.storedTimers().map(\.timer) == ["nap/1/sleep"])
        let described = try await second.describe(done)
        #expect(described.status == .completed)
        #expect(described.state.output == ["b": 5, "c": 5])
        let history = try await second.history(done)
        let definition = try await second.registry.definition(named: "three", version: 1).0
        var folded = WorkflowState(workflowID: done)
        for event in history { folded.apply(event, definition: definition) }
        #expect(folded == described.state)
        #expect(try await second.register(source: threeStepSource).version == 1)

        #expect(await second.armedTimerCount() == 1)
        await eventually { clock.sleeperCount > 0 }
        clock.advance(by: .hours(1))
        #expect(try await second.awaitCompletion(sleeping).status == .completed)
        #expect(try store.storedTimers().isEmpty)
        #expect(try store.storedTaskKeys().isEmpty)
        await second.close()
    }

    @Test func signalRequestIDsAreRecordedForDedupe() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let runtime = try await WorkflowRuntime.open(path: temp.path, clock: ManualClock())
        _ = try await runtime.register(source: "name: g\nsteps:\n  w: { wait_for_signal: { name: go } }\n  x: { wait_for_signal: { name: more } }\n")
        let id = try await runtime.startWorkflow("g", workflowID: "sig").id
        try await runtime.signal(id, name: "go", payload: 1, requestID: "req-1")
        try await runtime.signal(id, name: "go", payload: 2, requestID: "req-1")
        try await runtime.signal(id, name: "more", payload: 3)
        #expect(try await runtime.awaitCompletion(id).state.step("w").output == 1)
        let store = try #require(runtime.store as? SQLiteWorkflowStore)
        let rows = try store.read { connection throws(BatonError) in
            try connection.query("SELECT request_id, event_id FROM signal_dedupe WHERE workflow_id = 'sig'") { "\($0.text(0))@\($0.integer(1))" }
        }
        let history = try await runtime.history(id)
        let signalEvent = try #require(history.first { $0.kind.typeName == "SignalReceived" })
        #expect(rows == ["req-1@\(signalEvent.id)"])
        #expect(history.filter { $0.kind.typeName == "SignalReceived" }.count == 2)
        await runtime.close()
    }

    @Test func historyPagesInOrder() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let runtime = try await WorkflowRuntime.open(path: temp.path, clock: ManualClock())
        _ = try await runtime.register(source: threeStepSource)
        let id = try await runtime.startWorkflow("three", input: ["n": 1]).id
        _ = try await runtime.awaitCompletion(id)
        let all = try await runtime.history(id)
        let firstPage = try await runtime.history(id, afterEventID: 0, limit: 4)
        let rest = try await runtime.history(id, afterEventID: 4, limit: 100)
        #expect(firstPage + rest == all)
        #expect(all.first?.kind.typeName == "WorkflowStarted")
        #expect(all.last?.kind.typeName == "WorkflowCompleted")
        await runtime.close()
    }
}

/// Waits until `condition` holds, checking it between yields to the tasks it waits on; records a
/// failure (a hang becomes a message) when it still does not hold after `timeout`.
func eventually(timeout: Duration = .seconds(30), sourceLocation: Testing.SourceLocation = #_sourceLocation,
                _ condition: () async -> Bool) async {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        if ContinuousClock.now >= deadline {
            Issue.record("the awaited condition did not hold within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try? await Task.sleep(for: .milliseconds(1))
    }
}
