import BatonCore
import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct TimerTests {
    @Test func timersFireInDeadlineOrderAsTheClockAdvances() async throws {
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 0))
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: clock)
        let minutes = [7, 3, 11, 3, 1, 9, 5]
        var ids: [(String, Int)] = []
        for (index, length) in minutes.enumerated() {
            _ = try await runtime.register(source: "name: nap\(length)\nsteps:\n  nap: { sleep: \(length)m }\n")
            ids.append((try await runtime.startWorkflow("nap\(length)", workflowID: "nap-\(index)").id, length))
        }
        #expect(await runtime.armedTimerCount() == minutes.count)
        for minute in 1...11 {
            await eventually { clock.sleeperCount > 0 }
            clock.advance(to: Instant(millisecondsSinceEpoch: Int64(minute) * 60_000))
            for (id, length) in ids where length == minute {
                let result = try await runtime.awaitCompletion(id)
                #expect(result.state.closedAt == Instant(millisecondsSinceEpoch: Int64(length) * 60_000))
            }
            for (id, length) in ids where length > minute {
                #expect(try await runtime.describe(id).status == .running, "\(id) closed before its \(length)m timer")
            }
        }
        #expect(await runtime.armedTimerCount() == 0)
        await runtime.shutdown()
    }

    @Test func heartbeatTimeoutFiresOnTheInjectedClock() async throws {
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 0))
        let store = InMemoryWorkflowStore()
        let activities = InProcessActivities(clock: clock)
        activities.register("beat") { context in
            await context.heartbeat(["n": 1])
            try await context.sleep(for: .minutes(60))
            return "never"
        }
        let runtime = WorkflowRuntime(store: store, clock: clock, activities: activities)
        _ = try await runtime.register(source: """
            name: hb
            steps:
              a: { activity: beat, heartbeat_timeout: 10s, retry: { maximum_attempts: 1 } }
            """)
        let id = try await runtime.startWorkflow("hb").id
        await eventually { (try? await runtime.history(id).contains { $0.kind.typeName == "StepHeartbeat" }) == true }
        #expect(store.storedTimers(id).map(\.fireAt) == [Instant(millisecondsSinceEpoch: 10_000)])
        clock.advance(to: Instant(millisecondsSinceEpoch: 10_000))
        let result = try await runtime.awaitCompletion(id)
        #expect(result.status == .failed)
        #expect(try await runtime.history(id).contains { $0.kind == .stepTimedOut(step: "a", attempt: 1, timeout: .heartbeat, retryAt: nil) })
        await runtime.shutdown()
    }
}
