import BatonCore
import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct SchedulingTests {
    let t0 = Instant(millisecondsSinceEpoch: 1_000_000)

    static func durations(_ table: [String: Int64]) -> (ActivityTask) -> (Interval, Simulation.Outcome) {
        { task in (.seconds(table[task.step] ?? 1), .complete(["step": .string(task.step)])) }
    }

    @Test func diamondRunsBAndCInParallelAndFinishesAtTheCriticalPath() throws {
        var sim = try Simulation(
            """
            name: diamond
            steps:
              a: { activity: work }
              b: { activity: work, depends_on: [a] }
              c: { activity: work, depends_on: [a] }
              d: { activity: work, depends_on: [b, c] }
            """, script: Self.durations(["a": 2, "b": 5, "c": 3, "d": 1]))
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.times("StepScheduled", step: "b") == [t0 + .seconds(2)])
        #expect(sim.times("StepScheduled", step: "c") == [t0 + .seconds(2)])
        #expect(sim.times("StepScheduled", step: "d") == [t0 + .seconds(7)])
        #expect(sim.machine.state.closedAt == t0 + .seconds(8))
    }

    @Test func wideFanOutMakespanEqualsTheCriticalPath() throws {
        let width = 40
        var yaml = "name: fan\nsteps:\n  root: { activity: work }\n"
        var table: [String: Int64] = ["root": 1, "join": 2]
        for index in 0..<width {
            yaml += "  leaf\(index): { activity: work, depends_on: [root] }\n"
            table["leaf\(index)"] = Int64(1 + index % 7)
        }
        yaml += "  join: { activity: work, depends_on: [\((0..<width).map { "leaf\($0)" }.joined(separator: ", "))] }\n"
        var sim = try Simulation(yaml, script: Self.durations(table))
        sim.run()
        #expect(sim.machine.state.status == .completed)
        for index in 0..<width {
            #expect(sim.times("StepScheduled", step: "leaf\(index)") == [t0 + .seconds(1)])
        }
        #expect(sim.machine.state.closedAt == t0 + .seconds(1 + 7 + 2))
    }

    @Test func noWavesADependentStartsWhenItsOwnDependenciesAreDone() throws {
        var sim = try Simulation(
            """
            name: eager
            steps:
              slow: { activity: work }
              fast: { activity: work }
              after_fast: { activity: work, depends_on: [fast] }
            """, script: Self.durations(["slow": 10, "fast": 1, "after_fast": 1]))
        sim.run()
        #expect(sim.times("StepScheduled", step: "after_fast") == [t0 + .seconds(1)])
        #expect(sim.times("StepCompleted", step: "after_fast") == [t0 + .seconds(2)])
        #expect(sim.machine.state.closedAt == t0 + .seconds(10))
    }

    @Test func whenFalseSkipsAndDependentsProceed() throws {
        var sim = try Simulation(
            """
            name: skip
            steps:
              a: { activity: work, input: { go: "${input.go}" } }
              b: { activity: work, depends_on: [a], when: "${steps.a.output.go} == true" }
              c: { activity: work, depends_on: [b], input: { b: "${steps.b.output}" } }
            output: { b: "${steps.b.output}", c: "${steps.c.output}" }
            """, input: ["go": false], script: { task in (.seconds(1), .complete(task.input)) })
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.machine.state.step("b").status == .skipped)
        #expect(sim.history.contains { $0.kind == .stepSkipped(step: "b") })
        #expect(!sim.dispatched.contains { $0.step == "b" })
        #expect(sim.machine.state.step("c").status == .completed)
        #expect(sim.machine.state.output == ["b": nil, "c": ["b": nil]])
    }

    @Test func outputExpressionIsEvaluatedOnCompletion() throws {
        var sim = try Simulation(
            """
            name: out
            steps:
              deploy: { activity: work, input: { url: "https://x/${input.product}" } }
            output: { url: "${steps.deploy.output.url}", summary: "deployed ${input.product}" }
            """, input: ["product": "widget"], script: { task in (.seconds(1), .complete(task.input)) })
        sim.run()
        #expect(sim.machine.state.output == ["url": "https://x/widget", "summary": "deployed widget"])
        #expect(sim.history.last?.kind == .workflowCompleted(output: ["url": "https://x/widget", "summary": "deployed widget"]))
    }

    @Test func inputsAreEvaluatedAtScheduleTimeAndRecorded() throws {
        var sim = try Simulation(
            """
            name: inputs
            steps:
              a: { activity: work, input: { n: "${input.n}" } }
              b: { activity: work, depends_on: [a], input: { twice: ["${steps.a.output.n}", "${steps.a.output.n}"] } }
            """, input: ["n": 21], script: { task in (.seconds(1), .complete(task.input)) })
        sim.run()
        #expect(sim.dispatched.map(\.input) == [["n": 21], ["twice": [21, 21]]])
        #expect(sim.history.contains { $0.kind == .stepScheduled(step: "b", attempt: 1, input: ["twice": [21, 21]]) })
        #expect(sim.dispatched.map(\.idempotencyKey) == ["wf/a/1", "wf/b/1"])
    }

    @Test func sleepStepIsADurableTimer() throws {
        var sim = try Simulation(
            """
            name: nap
            steps:
              nap: { sleep: 1h30m }
              after: { activity: work, depends_on: [nap] }
            """, script: Self.durations([:]))
        #expect(sim.machine.state.timers.values.map(\.fireAt) == [t0 + .minutes(90)])
        sim.run()
        #expect(sim.times("StepScheduled", step: "after") == [t0 + .minutes(90)])
        #expect(sim.machine.state.status == .completed)
    }

    @Test func resultsOfSupersededAttemptsAndAfterCloseAreIgnored() throws {
        var sim = try Simulation("name: x\nsteps:\n  a: { activity: work }\n", script: { _ in (.seconds(1), .hang) })
        let before = sim.history.count
        sim.send(.activityCompleted(step: "a", attempt: 7, output: 1))
        sim.send(.activityCompleted(step: "nope", attempt: 1, output: 1))
        sim.send(.timerFired(timer: "a/1/backoff"))
        #expect(sim.history.count == before)
        sim.send(.activityCompleted(step: "a", attempt: 1, output: 1))
        #expect(sim.machine.state.status == .completed)
        let closed = sim.history.count
        sim.send(.activityCompleted(step: "a", attempt: 1, output: 2))
        sim.send(.signal(name: "s", payload: nil, requestID: nil))
        #expect(sim.history.count == closed)
    }

    @Test func onlyAttemptsWaitingForExternalExecutorsBecomeTaskRows() throws {
        let definition = try DefinitionParser.parse("name: q\nsteps:\n  a: { activity: local }\n  b: { activity: remote, depends_on: [a] }\n")
        var (machine, first) = WorkflowMachine.start(
            workflowID: "wf", definition: definition, version: 1, input: nil, now: t0, startsOnDispatch: { $0 == "local" })
        #expect(first.dispatchedTasks.map(\.step) == ["a"])
        #expect(first.queuedTasks.isEmpty)
        let second = machine.decide(.activityCompleted(step: "a", attempt: 1, output: 1), now: t0)
        #expect(second.releasedTasks.isEmpty)
        #expect(second.queuedTasks.map(\.idempotencyKey) == ["wf/b/1"])
        #expect(machine.state.step("b").status == .scheduled)
        let third = machine.decide(.activityCompleted(step: "b", attempt: 1, output: 2), now: t0)
        #expect(third.releasedTasks == [AttemptRef(step: "b", attempt: 1)])
        #expect(!third.commands.contains { if case .cancelActivity = $0 { true } else { false } })
        #expect(machine.state.status == .completed)
    }
}
