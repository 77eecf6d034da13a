import BatonCore
import BatonEngine
import Testing

let sagaDefinition = """
    name: saga
    steps:
      book_hotel:
        activity: hotel.book
        input: { city: "${input.city}" }
        compensate: { activity: hotel.cancel, input: { booking: "${self.output.id}", city: "${self.input.city}" } }
      book_flight:
        activity: flight.book
        depends_on: [book_hotel]
        compensate: { activity: flight.cancel, input: { booking: "${self.output.id}" }, retry: { maximum_attempts: 3, initial_interval: 1s } }
      notify: { activity: notify.send, depends_on: [book_hotel] }
      charge:
        activity: card.charge
        depends_on: [book_flight, notify]
        retry: { maximum_attempts: 2, initial_interval: 1s }
    on_failure: compensate
    """

@Suite(.timeLimit(.minutes(2))) struct SagaTests {
    /// Books succeed (output `{id: <step>-1}`), `failing` activities fail every attempt.
    static func script(failing: Set<String>, flakyCompensations: [String: Int] = [:]) -> (ActivityTask) -> (Interval, Simulation.Outcome) {
        { task in
            if failing.contains(task.activity) {
                return (.seconds(1), .fail(ActivityFailure(type: "Declined", message: "\(task.activity) failed")))
            }
            if let failures = flakyCompensations[task.activity], task.attempt <= failures {
                return (.seconds(1), .fail(ActivityFailure(type: "Flaky", message: "try again")))
            }
            return (.seconds(1), .complete(["id": .string("\(task.step)-\(task.attempt)"), "input": task.input]))
        }
    }

    @Test func failureCompensatesCompletedStepsInReverseCompletionOrder() throws {
        var sim = try Simulation(sagaDefinition, input: ["city": "Oslo"], script: Self.script(failing: ["card.charge"]))
        sim.run()
        #expect(sim.machine.state.status == .compensated)
        #expect(sim.machine.state.failedStep == "charge")
        let completed = sim.machine.state.completionOrder
        #expect(completed.first == "book_hotel")
        let started = sim.history.compactMap { if case .compensationStarted(let step) = $0.kind { step } else { nil } }
        // notify declares no compensation; the others run newest completion first.
        #expect(started == completed.reversed().filter { $0 != "notify" })
        #expect(started == ["book_flight", "book_hotel"])
        let hotelCancel = try #require(sim.dispatched.first { $0.step == "book_hotel.compensate" })
        #expect(hotelCancel.activity == "hotel.cancel")
        #expect(hotelCancel.input == ["booking": "book_hotel-1", "city": "Oslo"])
        #expect(hotelCancel.idempotencyKey == "wf/book_hotel.compensate/1")
        #expect(sim.history.last?.kind == .workflowCompensated)
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func eachCompensationRetriesWithItsOwnPolicy() throws {
        var sim = try Simulation(
            sagaDefinition, input: ["city": "Oslo"],
            script: Self.script(failing: ["card.charge"], flakyCompensations: ["flight.cancel": 2]))
        sim.run()
        #expect(sim.machine.state.status == .compensated)
        let flightAttempts = sim.dispatched.filter { $0.step == "book_flight.compensate" }.map(\.attempt)
        #expect(flightAttempts == [1, 2, 3])
        let retried = sim.history.filter {
            if case .compensationAttemptFailed("book_flight", _, _, let retryAt) = $0.kind { retryAt != nil } else { false }
        }
        #expect(retried.count == 2)
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func aFailedCompensationEndsCompensationFailedNamingTheStepAndTheRestStillRun() throws {
        var sim = try Simulation(
            sagaDefinition, input: ["city": "Oslo"], script: Self.script(failing: ["card.charge", "flight.cancel"]))
        sim.run()
        #expect(sim.machine.state.status == .compensationFailed)
        #expect(sim.machine.state.compensationFailedStep == "book_flight")
        #expect(sim.history.contains { $0.kind == .compensationCompleted(step: "book_hotel") })
        #expect(sim.history.last?.kind == .workflowCompensationFailed(step: "book_flight"))
        #expect(sim.dispatched.filter { $0.step == "book_flight.compensate" }.count == 3)
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func aHangingCompensationAttemptTimesOutAndIsRetried() throws {
        let source = sagaDefinition.replacingOccurrences(
            of: "input: { city: \"${input.city}\" }", with: "input: { city: \"${input.city}\" }\n    start_to_close_timeout: 10s")
        var sim = try Simulation(source, input: ["city": "Oslo"], script: { task in
            if task.activity == "card.charge" { return (.seconds(1), .fail(ActivityFailure(type: "Declined", message: "no"))) }
            if task.activity == "hotel.cancel", task.attempt == 1 { return (.zero, .hang) }
            return (.seconds(1), .complete(["id": .string(task.step)]))
        })
        sim.run()
        #expect(sim.machine.state.status == .compensated)
        #expect(sim.dispatched.filter { $0.step == "book_hotel.compensate" }.map(\.attempt) == [1, 2])
        #expect(sim.history.contains {
            if case .compensationAttemptFailed("book_hotel", 1, let failure, let retryAt) = $0.kind {
                failure.type == "Timeout" && retryAt != nil
            } else { false }
        })
        #expect(sim.machine.state.timers.isEmpty)
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func withoutCompensatePolicyAFailureJustFails() throws {
        let source = sagaDefinition.replacingOccurrences(of: "on_failure: compensate", with: "on_failure: fail")
        var sim = try Simulation(source, input: ["city": "Oslo"], script: Self.script(failing: ["card.charge"]))
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(!sim.history.contains { $0.kind.typeName == "CompensationStarted" })
    }

    static func hangingFlight(_ task: ActivityTask) -> (Interval, Simulation.Outcome) {
        task.activity == "flight.book" ? (.seconds(1), .hang) : (.seconds(1), .complete(["id": .string(task.step)]))
    }

    @Test func cancelAbandonsRunningAttemptsThenCompensatesAndEndsCancelled() throws {
        var sim = try Simulation(sagaDefinition, input: ["city": "Oslo"], script: Self.hangingFlight)
        sim.run(until: sim.now + .seconds(5))
        #expect(sim.machine.state.step("book_flight").status == .started)
        var decision = sim.machine.decide(.cancel(reason: "customer changed their mind"), now: sim.now)
        #expect(decision.commands.contains(.cancelActivity(workflowID: "wf", step: "book_flight", attempt: 1)))
        #expect(decision.events.map(\.kind.typeName).prefix(3) == ["CancelRequested", "StepFailed", "SagaStarted"])
        #expect(sim.machine.state.step("book_flight").lastFailure?.type == "Cancelled")
        // Only the hotel completed: its compensation is the one dispatched.
        #expect(decision.dispatchedTasks.map(\.step) == ["book_hotel.compensate"])
        decision = sim.machine.decide(.activityCompleted(step: "book_hotel.compensate", attempt: 1, output: .null), now: sim.now)
        #expect(sim.machine.state.status == .cancelled)
        #expect(decision.events.last?.kind == .workflowCancelled(reason: "customer changed their mind"))
        // A late result of the abandoned attempt changes nothing.
        #expect(sim.machine.decide(.activityCompleted(step: "book_flight", attempt: 1, output: .null), now: sim.now).events.isEmpty)
    }

    @Test func terminateClosesAtOnceAndRunsNothingMore() throws {
        var sim = try Simulation(sagaDefinition, input: ["city": "Oslo"], script: Self.hangingFlight)
        sim.run(until: sim.now + .seconds(5))
        let decision = sim.machine.decide(.terminate(reason: "ops"), now: sim.now)
        #expect(decision.events.map(\.kind) == [.workflowTerminated(reason: "ops")])
        #expect(decision.dispatchedTasks.isEmpty)
        #expect(decision.commands.contains(.cancelActivity(workflowID: "wf", step: "book_flight", attempt: 1)))
        #expect(sim.machine.state.status == .terminated)
    }

    @Test func selfReferencesOnlyInsideCompensate() {
        #expect(throws: DefinitionError.self) {
            try DefinitionParser.parse("name: x\nsteps:\n  a: { activity: e, input: { v: \"${self.input.x}\" } }\n")
        }
    }
}
