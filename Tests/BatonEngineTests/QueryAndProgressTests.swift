import BatonCore
import BatonEngine
import Synchronization
import Testing

let gatedDefinition = """
    name: gated
    steps:
      first: { wait_for_signal: { name: one }, phase: intake }
      second: { wait_for_signal: { name: two }, depends_on: [first], phase: review, weight: 3 }
      finish: { activity: builtin.echo, depends_on: [second], input: { who: "${steps.second.signal.who}" } }
    output: { who: "${steps.finish.output.who}" }
    queries:
      reviewer: "${steps.second.signal.who}"
      product: "${input.product}"
    """

@Suite(.timeLimit(.minutes(2))) struct QueryAndProgressTests {
    @Test func builtinAndNamedQueriesForOpenAndClosedWorkflows() async throws {
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated", input: ["product": "Widget"]).id
        let eventsBefore = try await runtime.history(id).count

        let progress = try await runtime.query(id, "progress")
        #expect(progress["status"] == "RUNNING")
        #expect(progress["current_phase"] == "intake")
        #expect(progress["running"] == ["first"])
        #expect(progress["waiting_for_signals"] == ["first": "one"])
        #expect(progress["eta_ms"] == .null)
        #expect(try await runtime.query(id, "product") == "Widget")
        #expect(try await runtime.query(id, "reviewer") == .null)
        #expect(try await runtime.query(id, "output") == .null)
        let steps = try await runtime.query(id, "steps")
        #expect(steps.lookup(["0", "name"]) == "first")
        #expect(steps.lookup(["0", "status"]) == "running")
        #expect(try await runtime.query(id, "state")["status"] == "RUNNING")
        await #expect(throws: BatonError.self) { try await runtime.query(id, "nope") }
        do {
            _ = try await runtime.query(id, "nope")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("'nope'"))
        }
        await #expect(throws: BatonError.self) { try await runtime.query("missing", "progress") }
        // Queries never write history.
        #expect(try await runtime.history(id).count == eventsBefore)

        try await runtime.signal(id, name: "one")
        try await runtime.signal(id, name: "two", payload: ["who": "ana"])
        _ = try await runtime.awaitCompletion(id)
        #expect(try await runtime.query(id, "output") == ["who": "ana"])
        #expect(try await runtime.query(id, "reviewer") == "ana")
        let closed = try await runtime.progress(id)
        #expect(closed.status == .completed)
        #expect(closed.percentage == 100)
        #expect(closed.eta == .zero)
        #expect(closed.running.isEmpty)
        #expect(closed.completed == ["first", "second", "finish"])
        await runtime.shutdown()
    }

    @Test func percentageIsWeightedAndPhaseFollowsTheRunningStep() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        try await runtime.signal(id, name: "one")
        let progress = try await runtime.progress(id)
        // Weights: first 1 (done), second 3, finish 1.
        #expect(progress.percentage == 20)
        #expect(progress.currentPhase == "review")
        #expect(progress.pending == ["finish"])
        try await runtime.terminate(id)
        await runtime.shutdown()
    }

    @Test func etaIsTheCriticalPathOfRemainingStepsFromEstimates() throws {
        let definition = try DefinitionParser.parse("""
            name: eta
            steps:
              a: { activity: fast }
              b: { activity: slow, depends_on: [a] }
              c: { activity: fast, depends_on: [a] }
              d: { activity: fast, depends_on: [b, c] }
              e: { sleep: 10s }
            """)
        let estimates: [String: Interval] = ["fast": .seconds(1), "slow": .seconds(7)]
        let t0 = Instant(millisecondsSinceEpoch: 1_000)
        var (machine, _) = WorkflowMachine.start(workflowID: "w", definition: definition, version: 1, input: .null, now: t0)
        let expected: (String) -> Interval? = { estimates[$0] ?? .seconds(99) }
        // a(1) → b(7) → d(1) = 9s; the sleep (10s) is longer.
        #expect(WorkflowProgress(state: machine.state, definition: definition, now: t0, expected: expected).eta == .seconds(10))
        _ = machine.decide(.activityCompleted(step: "a", attempt: 1, output: .null), now: t0 + .seconds(1))
        // At 4s: b has run 3 of its 7s (4 left) then d (1) → 5s; the sleep (since 0s) has 6s left.
        let at4 = WorkflowProgress(state: machine.state, definition: definition, now: t0 + .seconds(4), expected: expected)
        #expect(at4.eta == .seconds(6))
        // At 9s the sleep has 1s left; b is 1s late (never negative) and d follows: 1s.
        #expect(WorkflowProgress(state: machine.state, definition: definition, now: t0 + .seconds(9), expected: expected).eta == .seconds(1))
        _ = machine.decide(.timerFired(timer: "e/1/sleep"), now: t0 + .seconds(10))
        let at10 = WorkflowProgress(state: machine.state, definition: definition, now: t0 + .seconds(10), expected: expected)
        #expect(at10.eta == .seconds(1))
        #expect(at10.running.sorted() == ["b", "c"])
    }

    @Test func durationsAreLearnedFromCompletedAttemptsAndFeedTheETA() async throws {
        let store = InMemoryWorkflowStore()
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 5_000))
        let runtime = WorkflowRuntime(store: store, clock: clock, defaultActivityEstimate: .seconds(2))
        runtime.activities.register("work") { context in
            try await context.sleep(for: .seconds(5))
            return "done"
        }
        _ = try await runtime.register(source: "name: learn\nsteps:\n  a: { activity: work }\n")
        #expect(try await runtime.progress(runtime.startWorkflow("learn", workflowID: "probe").id).eta == .seconds(2))
        try await runtime.terminate("probe")
        let id = try await runtime.startWorkflow("learn").id
        await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(5))
        #expect(try await runtime.awaitCompletion(id).status == .completed)
        #expect(runtime.durations.estimate("work") == ActivityDurationEstimate(samples: 1, meanMilliseconds: 5_000))
        #expect(try await store.activityDurations()["work"]?.samples == 1)
        let next = try await runtime.startWorkflow("learn").id
        #expect(try await runtime.progress(next).eta == .seconds(5))
        await runtime.shutdown()

        // A new runtime over the same store starts from what was learned.
        let restarted = WorkflowRuntime(store: store, clock: clock)
        try await restarted.recover()
        #expect(restarted.durations.expected("work") == .seconds(5))
        await restarted.shutdown()
    }
}
