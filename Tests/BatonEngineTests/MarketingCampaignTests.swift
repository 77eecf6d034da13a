import BatonCore
import BatonEngine
import Foundation
import Testing

/// The seed's example, `examples/marketing_campaign.yaml`, run in virtual time.
@Suite(.timeLimit(.minutes(2))) struct MarketingCampaignTests {
    static let source: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/marketing_campaign.yaml")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()
    static let t0 = Instant(millisecondsSinceEpoch: 1_000_000)

    /// `builtin.simulate` semantics in the pure simulation: take `duration`, return `output`.
    static func simulate(failing: String? = nil) -> (ActivityTask) -> (Interval, Simulation.Outcome) {
        { task in
            let duration = task.input["duration"]?.stringValue.flatMap(Interval.init(parsing:)) ?? .zero
            if task.step == failing { return (duration, .fail(ActivityFailure(type: "Injected", message: "boom"))) }
            return (duration, .complete(task.input["output"] ?? task.input))
        }
    }

    /// The longest path through the DAG with each step's simulated duration (signal waits take 0).
    static func criticalPath(_ definition: WorkflowDefinition) -> Interval {
        var finish: [String: Int64] = [:]
        func end(_ name: String) -> Int64 {
            if let known = finish[name] { return known }
            let step = definition.step(name)!
            let start = step.dependsOn.map(end).max() ?? 0
            let own = step.input.evaluate(in: WorkflowState(workflowID: "x"))["duration"]?.stringValue
                .flatMap(Interval.init(parsing:))?.milliseconds ?? 0
            finish[name] = start + own
            return start + own
        }
        return .milliseconds(definition.steps.map { end($0.name) }.max()!)
    }

    /// The sum of the slowest step of each dependency level (what wave scheduling would take).
    static func sumOfLevelMaxima(_ definition: WorkflowDefinition) -> Interval {
        var level: [String: Int] = [:]
        func depth(_ name: String) -> Int {
            if let known = level[name] { return known }
            let value = (definition.step(name)!.dependsOn.map(depth).max() ?? -1) + 1
            level[name] = value
            return value
        }
        var slowest: [Int: Int64] = [:]
        for step in definition.steps {
            let own = step.input.evaluate(in: WorkflowState(workflowID: "x"))["duration"]?.stringValue
                .flatMap(Interval.init(parsing:))?.milliseconds ?? 0
            slowest[depth(step.name)] = max(slowest[depth(step.name)] ?? 0, own)
        }
        return .milliseconds(slowest.values.reduce(0, +))
    }

    @Test func makespanEqualsTheCriticalPathNotTheSumOfLevelMaxima() throws {
        var sim = try Simulation(Self.source, input: ["product": "Widget"], start: Self.t0, script: Self.simulate())
        // Approved up front: the signal is kept until the approval step is reached.
        sim.send(.signal(name: "approve_campaign", payload: ["approved": true], requestID: "ok-1"))
        sim.run()
        let definition = sim.machine.definition
        #expect(sim.machine.state.status == .completed)
        let makespan = try #require(sim.machine.state.closedAt) - Self.t0
        #expect(makespan == Self.criticalPath(definition))
        #expect(makespan == .seconds(15))
        #expect(Self.sumOfLevelMaxima(definition) == .seconds(17))
        #expect(sim.machine.state.output == ["url": "https://example.com/Widget", "approved": true])
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func aFailureAtTheTenthStepCompensatesEveryCompletedStepInReverseCompletionOrder() throws {
        // Find the tenth activity step to be dispatched in a clean run.
        var clean = try Simulation(Self.source, input: ["product": "Widget"], start: Self.t0, script: Self.simulate())
        clean.send(.signal(name: "approve_campaign", payload: ["approved": true], requestID: nil))
        clean.run()
        var order: [String] = []
        for task in clean.dispatched where !order.contains(task.step) { order.append(task.step) }
        #expect(order.count == 10)
        let tenth = order[9]

        var sim = try Simulation(Self.source, input: ["product": "Widget"], start: Self.t0, script: Self.simulate(failing: tenth))
        sim.send(.signal(name: "approve_campaign", payload: ["approved": true], requestID: nil))
        sim.run()
        let state = sim.machine.state
        #expect(state.status == .compensated)
        #expect(state.failedStep == tenth)
        #expect(state.step(tenth).attempt == 3)
        let expected = state.completionOrder.reversed().filter { sim.machine.definition.step($0)?.compensate != nil }
        #expect(expected.count == 5)
        let compensated = sim.history.compactMap { if case .compensationCompleted(let step) = $0.kind { step } else { nil } }
        #expect(compensated == Array(expected))
        let inputs = sim.dispatched.filter { $0.step.hasSuffix(".compensate") }.map { $0.input["output"] ?? .null }
        #expect(inputs.first == ["unpublished": "page-Widget"] || inputs.first == ["deleted": ["img-Widget-1", "img-Widget-2"]])
        #expect(inputs.contains(["deleted": "market-Widget"]))
        #expect(sim.fold() == state)
    }

    @Test func approvalTimeoutCompensates() throws {
        var sim = try Simulation(Self.source, input: ["product": "Widget"], start: Self.t0, script: Self.simulate())
        sim.run()
        #expect(sim.machine.state.status == .compensated)
        #expect(sim.machine.state.failedStep == "approval")
        #expect(try #require(sim.machine.state.closedAt) >= Self.t0 + .seconds(13) + .hours(24))
    }

    /// Runs the example on a real runtime with in-process `builtin.simulate` activities on a manual
    /// clock: time moves to the next deadline once at least as many tasks sleep on the clock as
    /// activities run, and the approval arrives as a signal. (Exact timing is asserted on the pure
    /// machine above; here the point is the real runtime, dispatch and signal path.)
    @Test func runsInProcessAndApprovalViaSignalCompletesIt() async throws {
        let clock = ManualClock(start: Self.t0)
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
        _ = try await runtime.register(source: Self.source)
        let id = try await runtime.startWorkflow("marketing_campaign", input: ["product": "Widget"]).id
        var phases: [String] = []
        var approved = false
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let progress = try await runtime.progress(id)
            if progress.status.isClosed { break }
            guard ContinuousClock.now < deadline else {
                Issue.record("the campaign did not close within 60 s: \(progress)")
                return
            }
            if let phase = progress.currentPhase, phases.last != phase { phases.append(phase) }
            if !approved, progress.waitingForSignals["approval"] != nil {
                try await runtime.signal(id, name: "approve_campaign", payload: ["approved": true], requestID: "approve-1")
                approved = true
                continue
            }
            let activities = progress.running.filter { progress.waitingForSignals[$0] == nil }.count
            if activities > 0, clock.sleeperCount >= activities, let next = clock.nextDeadline {
                clock.advance(to: next)
            } else {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        let result = try await runtime.awaitCompletion(id)
        #expect(approved)
        #expect(result.status == .completed)
        #expect(result.state.output == ["url": "https://example.com/Widget", "approved": true])
        #expect(phases.first == "research")
        #expect(phases.contains("approval"))
        #expect(try await runtime.query(id, "approved") == true)
        #expect(runtime.durations.estimate("builtin.simulate")?.samples == 10)
        await runtime.shutdown()
    }
}
