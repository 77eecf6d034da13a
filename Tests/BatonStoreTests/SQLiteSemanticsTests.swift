import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

@Suite(.timeLimit(.minutes(5))) struct SQLiteSemanticsTests {
    @Test func allowAfterCloseArchivesTheClosedRunInTheSameTransaction() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 7_000))
        let runtime = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        _ = try await runtime.register(source: "name: gate\nsteps:\n  w: { wait_for_signal: go }\n")
        #expect(try await runtime.startWorkflow("gate", workflowID: "job", input: 1).started)
        try await runtime.signal("job", name: "go", requestID: "once")
        #expect(try await runtime.awaitCompletion("job").status == .completed)
        let oldHistory = try await runtime.history("job")

        let again = try await runtime.startWorkflow("gate", workflowID: "job", input: 2, policy: .allowAfterClose)
        #expect(again.started)
        #expect(try await runtime.describe("job").state.input == 2)
        #expect(try await runtime.history("job").count < oldHistory.count)
        let store = try #require(runtime.store as? SQLiteWorkflowStore)
        let archivedIDs = try store.read { connection throws(BatonError) in
            try connection.query("SELECT id FROM workflows WHERE id LIKE 'job/%'") { $0.text(0) }
        }
        let archivedID = try #require(archivedIDs.first)
        let archived = try await runtime.describe(archivedID)
        #expect(archived.workflowID == archivedID)
        #expect(archived.state.input == 1)
        #expect(try await runtime.history(archivedID) == oldHistory)
        // The new run has its own request-id space.
        try await runtime.signal("job", name: "go", requestID: "once")
        #expect(try await runtime.awaitCompletion("job").status == .completed)
        await runtime.close()
    }

    @Test func learnedDurationsArePersistedAndReloaded() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 7_000))
        let activities = InProcessActivities(clock: clock)
        activities.register("work") { context in
            try await context.sleep(for: .seconds(4))
            return .null
        }
        let runtime = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock, activities: activities)
        _ = try await runtime.register(source: "name: w\nsteps:\n  a: { activity: work }\n")
        let id = try await runtime.startWorkflow("w").id
        await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(4))
        _ = try await runtime.awaitCompletion(id)
        await runtime.close()

        let reopened = try await WorkflowRuntime.open(path: temp.path, durability: .full, clock: clock)
        #expect(reopened.durations.estimate("work") == ActivityDurationEstimate(samples: 1, meanMilliseconds: 4_000))
        let store = try #require(reopened.store as? SQLiteWorkflowStore)
        #expect(try await store.activityDurations()["work"]?.meanMilliseconds == 4_000)
        await reopened.close()
    }

    @Test func sqlAndSwiftFoldDurationsTheSameWay() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let samples: [Int64] = (1...30).map { $0 * 100 }
        var expected = ActivityDurationEstimate(samples: 0, meanMilliseconds: 0)
        for (index, sample) in samples.enumerated() {
            expected = expected.adding(sample)
            var state = WorkflowState(workflowID: "d\(index)")
            state.lastEventID = 0
            var change = WorkflowChange(state: state, decision: Decision(), isNew: true)
            change.durationSamples = [ActivityDurationSample(activity: "x", milliseconds: sample)]
            try await store.commit(change)
        }
        let stored = try #require(try await store.activityDurations()["x"])
        #expect(stored.samples == expected.samples)
        #expect(abs(stored.meanMilliseconds - expected.meanMilliseconds) < 0.001)
    }
}
