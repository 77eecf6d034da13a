import BatonCore
import BatonEngine
import Testing

/// The ETA tells only what history can back (item 10 of the new-user issue): the time until the run
/// reaches a wait for a person, nothing while it waits, and nothing for activities never seen.
@Suite(.timeLimit(.minutes(2))) struct ETATests {
    static let campaign = """
        name: eta_campaign
        steps:
          research: { activity: research }
          brief: { activity: brief, depends_on: [research] }
          approval: { wait_for_signal: { name: approve }, depends_on: [brief] }
          deploy: { activity: deploy, depends_on: [approval] }
        """

    @Test func theETARunsToTheWaitIsAbsentWhileWaitingAndCoversTheRestAfterTheSignal() async throws {
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 10_000))
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
        runtime.durations.load([
            "research": ActivityDurationEstimate(samples: 3, meanMilliseconds: 4_000),
            "brief": ActivityDurationEstimate(samples: 3, meanMilliseconds: 9_000),
            "deploy": ActivityDurationEstimate(samples: 3, meanMilliseconds: 2_000),
        ])
        for (name, seconds) in [("research", Int64(4)), ("brief", 9), ("deploy", 2)] {
            runtime.activities.register(name) { context in
                try await context.sleep(for: .seconds(seconds))
                return .null
            }
        }
        _ = try await runtime.register(source: Self.campaign)
        let id = try await runtime.startWorkflow("eta_campaign").id

        // 0 s: research (4) + brief (9) until the wait: 13 s, to the signal, never the human wait.
        await eventually { clock.sleeperCount == 1 }
        var progress = try await runtime.progress(id)
        #expect(progress.eta == .seconds(13))
        #expect(progress.etaUntilSignal == "approve")
        // 3 s into research: 1 s of it left, then brief: 10 s.
        clock.advance(by: .seconds(3))
        #expect(try await runtime.progress(id).eta == .seconds(10))
        clock.advance(by: .seconds(1))
        await eventually { (try? await runtime.progress(id).running) == ["brief"] }
        await eventually { clock.sleeperCount == 1 }
        #expect(try await runtime.progress(id).eta == .seconds(9))
        clock.advance(by: .seconds(9))
        await eventually { (try? await runtime.progress(id).waitingForSignals) == ["approval": "approve"] }

        // Waiting for a person: no number, however long it takes; it never counts down.
        progress = try await runtime.progress(id)
        #expect(progress.eta == nil && progress.etaUntilSignal == nil)
        clock.advance(by: .seconds(30))
        #expect(try await runtime.progress(id).eta == nil)

        // After the signal: the rest of the run (deploy, 2 s) to the end.
        try await runtime.signal(id, name: "approve")
        progress = try await runtime.progress(id)
        #expect(progress.eta == .seconds(2))
        #expect(progress.etaUntilSignal == nil)
        await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(2))
        let closed = try await runtime.awaitCompletion(id)
        #expect(closed.status == .completed)
        #expect(try await runtime.progress(id).eta == .zero)
        await runtime.shutdown()
    }

    @Test func anActivityWithoutHistoryLeavesTheETAUnknownUntilOneCompleted() async throws {
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 10_000))
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
        runtime.activities.register("novel") { context in
            try await context.sleep(for: .seconds(7))
            return .null
        }
        _ = try await runtime.register(source: "name: fresh\nsteps:\n  a: { activity: novel }\n  b: { sleep: 1s, depends_on: [a] }\n")
        let first = try await runtime.startWorkflow("fresh").id
        // Never seen completing: no guess (an honest "unknown"), not a default that turns out 7x off.
        #expect(try await runtime.progress(first).eta == nil)
        await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(7))
        await eventually { (try? await runtime.progress(first).running) == ["b"] }
        // Once `a` is done only the sleep is left, which is known.
        #expect(try await runtime.progress(first).eta == .seconds(1))
        await eventually { clock.sleeperCount >= 1 }
        clock.advance(by: .seconds(1))
        _ = try await runtime.awaitCompletion(first)
        // The next run is estimated from history: 7 s + 1 s.
        let second = try await runtime.startWorkflow("fresh").id
        #expect(try await runtime.progress(second).eta == .seconds(8))
        try await runtime.terminate(second)
        await runtime.shutdown()
    }
}
