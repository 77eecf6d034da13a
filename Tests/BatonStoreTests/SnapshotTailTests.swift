import BatonCodec
import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

/// Changes may leave the snapshot out (the engine writes one once the events since the last are as
/// many as the run has steps); every read folds the tail, so readers still see the current state.
@Suite(.timeLimit(.minutes(5))) struct SnapshotTailTests {
    static func chain(_ count: Int) -> String {
        "name: chain\nsteps:\n" + (0..<count).map { index in
            index == 0 ? "  s0: { activity: work }\n" : "  s\(index): { activity: work, depends_on: [s\(index - 1)] }\n"
        }.joined()
    }

    @Test func aLongOpenRunIsReadBackExactlyWhileItsSnapshotLagsBehind() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        let source = Self.chain(400)
        _ = try await DefinitionRegistry(store: store).register(source: source, now: .epoch)
        let definition = try DefinitionParser.parse(source)
        var (machine, start) = WorkflowMachine.start(workflowID: "w", definition: definition, version: 1, input: .null, now: .epoch)
        try await store.commit(WorkflowChange(state: machine.state, decision: start, isNew: true))
        var snapshotWrites = 0
        var lastSnapshotEventID = machine.state.lastEventID
        for index in 0..<399 {
            let decision = machine.decide(.activityCompleted(step: "s\(index)", attempt: 1, output: ["i": .number(Double(index))]),
                                          now: Instant(millisecondsSinceEpoch: Int64(index)))
            // As the engine does: a full snapshot now and then, otherwise only the summary.
            try await store.commit(WorkflowChange(state: machine.state, decision: decision, isNew: false,
                                                  includesSnapshot: index % 50 == 49))
            let at = try store.read { connection throws(BatonError) in
                try connection.query("SELECT snapshot_event_id FROM workflows WHERE id = 'w'") { $0.integer(0) }
            }.first ?? 0
            if at != lastSnapshotEventID { snapshotWrites += 1 }
            lastSnapshotEventID = at
            if index % 97 == 0 { #expect(try await store.loadWorkflow("w")?.state == machine.state) }
        }
        #expect(machine.state.status == .running)
        #expect(try await store.loadWorkflow("w")?.state == machine.state)
        #expect(try await store.loadOpenWorkflows().map(\.state) == [machine.state])
        // Only the changes that carried a snapshot rewrote it.
        #expect(snapshotWrites == 7, "\(snapshotWrites) snapshot writes for 399 decisions")
        // Closing writes the snapshot at the last event.
        let last = machine.decide(.activityCompleted(step: "s399", attempt: 1, output: .null), now: .epoch)
        try await store.commit(WorkflowChange(state: machine.state, decision: last, isNew: false))
        #expect(machine.state.status == .completed)
        let row = try store.read { connection throws(BatonError) in
            try connection.query("SELECT snapshot_event_id, last_event_id FROM workflows WHERE id = 'w'") { ($0.integer(0), $0.integer(1)) }
        }
        #expect(row.first?.0 == row.first?.1)
        store.close()

        // A restart reads the same state, and the checker agrees.
        let reopened = try SQLiteWorkflowStore(path: temp.path)
        defer { reopened.close() }
        #expect(try await reopened.loadWorkflow("w")?.state == machine.state)
        #expect(try await StoreChecker(store: reopened).run().isHealthy)
    }

    @Test func aDatabaseOfThePreviousReleaseOpensAndReadsAsBefore() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        // Write what the previous release wrote: migrations 0001 and 0002 only, a snapshot per row.
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 5_000))
        let runtime = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        _ = try await runtime.register(source: "name: gate\nsteps:\n  w: { wait_for_signal: go }\n")
        _ = try await runtime.startWorkflow("gate", workflowID: "old", input: ["v": 1])
        let before = try await runtime.describe("old").state
        await runtime.close()
        let connection = try SQLiteConnection(path: temp.path)
        // That release stored the full state in every row.
        _ = try connection.run("UPDATE workflows SET snapshot = ?", [.blob(try SnapshotCodec.encode(before))])
        _ = try connection.run("UPDATE workflows SET snapshot_event_id = NULL")
        try connection.execute("ALTER TABLE workflows DROP COLUMN snapshot_event_id")
        _ = try connection.run("DELETE FROM migrations WHERE name = '0003_snapshot_event_id'")

        let reopened = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        #expect(try await reopened.describe("old").state == before)
        try await reopened.signal("old", name: "go")
        #expect(try await reopened.awaitCompletion("old").status == .completed)
        await reopened.close()
    }
}
