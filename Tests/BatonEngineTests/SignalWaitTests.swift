import BatonCore
import BatonEngine
import Testing

func approvalDefinition(onTimeout: String, onFailure: String = "fail") -> String {
    """
    name: approve
    steps:
      prepare:
        activity: prep
        compensate: { activity: unprep, input: { id: "${self.output.id}" } }
      approval:
        depends_on: [prepare]
        wait_for_signal: { name: go, timeout: 1h, on_timeout: \(onTimeout) }
      ship:
        depends_on: [approval]
        when: "${steps.approval.signal.approved} == true"
        activity: ship
        input: { note: "${steps.approval.signal.note}" }
    output: { shipped: "${steps.ship.output.note}" }
    on_failure: \(onFailure)
    """
}

@Suite(.timeLimit(.minutes(2))) struct SignalWaitTests {
    static let prepTakes = Interval.seconds(10)

    static func sim(_ source: String) throws -> Simulation {
        try Simulation(source, script: { task in
            (task.activity == "prep" ? prepTakes : .seconds(1), .complete(task.activity == "prep" ? ["id": "p1"] : task.input))
        })
    }

    @Test func signalCompletesTheWaitAndIsReadableDownstream() throws {
        var sim = try Self.sim(approvalDefinition(onTimeout: "fail"))
        sim.run(until: sim.now + .seconds(30))
        #expect(sim.machine.state.step("approval").status == .started)
        sim.send(.signal(name: "go", payload: ["approved": true, "note": "lgtm"], requestID: "r1"))
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.machine.state.output == ["shipped": "lgtm"])
        #expect(sim.dispatched.first { $0.step == "ship" }?.input == ["note": "lgtm"])
        #expect(sim.machine.state.timers.isEmpty)
    }

    @Test func aSignalBeforeTheWaitIsKeptAndConsumed() throws {
        var sim = try Self.sim(approvalDefinition(onTimeout: "fail"))
        sim.send(.signal(name: "go", payload: ["approved": true, "note": "early"], requestID: nil))
        #expect(sim.machine.state.pendingSignals.count == 1)
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.machine.state.output == ["shipped": "early"])
        #expect(sim.machine.state.pendingSignals.isEmpty)
        #expect(!sim.history.contains { $0.kind.typeName == "TimerStarted" && $0.kind.step == "approval" })
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func aRepeatedRequestIDIsIgnored() throws {
        var sim = try Self.sim(approvalDefinition(onTimeout: "fail"))
        sim.send(.signal(name: "other", payload: 1, requestID: "same"))
        let again = sim.machine.decide(.signal(name: "other", payload: 2, requestID: "same"), now: sim.now)
        #expect(again.events.isEmpty)
        #expect(sim.history.filter { $0.kind.typeName == "SignalReceived" }.count == 1)
        #expect(sim.machine.state.signalRequestIDs == ["same"])
    }

    @Test func waitTimeoutFailFailsTheWorkflow() throws {
        var sim = try Self.sim(approvalDefinition(onTimeout: "fail"))
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(sim.machine.state.failedStep == "approval")
        #expect(sim.machine.state.failure?.type == "SignalTimeout")
        #expect(sim.history.contains { $0.kind == .signalWaitTimedOut(step: "approval") })
        #expect(!sim.dispatched.contains { $0.step == "prepare.compensate" })
    }

    @Test func waitTimeoutCompensateCompensatesEvenWhenOnFailureIsFail() throws {
        var sim = try Self.sim(approvalDefinition(onTimeout: "compensate"))
        sim.run()
        #expect(sim.machine.state.status == .compensated)
        #expect(sim.dispatched.first { $0.step == "prepare.compensate" }?.input == ["id": "p1"])
        let closedAt = try #require(sim.machine.state.closedAt)
        #expect(closedAt >= Instant(millisecondsSinceEpoch: 1_000_000) + Self.prepTakes + .hours(1))
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func waitTimeoutContinueCompletesWithNullAndDependentsProceed() throws {
        var sim = try Self.sim(approvalDefinition(onTimeout: "continue"))
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.machine.state.step("approval").output == .null)
        #expect(sim.machine.state.step("ship").status == .skipped)
    }
}
