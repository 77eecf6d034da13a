import BatonCore
import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct RetryAndTimeoutTests {
    let t0 = Instant(millisecondsSinceEpoch: 1_000_000)

    static func failing(_ type: String = "Boom", first count: Int = .max, nonRetryable: Bool = false, after: Interval = .seconds(1))
        -> (ActivityTask) -> (Interval, Simulation.Outcome)
    {
        { task in
            task.attempt <= count
                ? (after, .fail(ActivityFailure(type: type, message: "attempt \(task.attempt)", nonRetryable: nonRetryable)))
                : (after, .complete(["attempt": .number(Double(task.attempt))]))
        }
    }

    @Test func backoffGrowsByTheCoefficientAndIsCappedAtTheMaximum() throws {
        var sim = try Simulation(
            """
            name: r
            steps:
              a:
                activity: work
                retry: { initial_interval: 1s, backoff_coefficient: 3, maximum_interval: 20s, maximum_attempts: 6 }
            """, script: Self.failing(first: 5))
        sim.run()
        #expect(sim.machine.state.status == .completed)
        let failures = sim.history.compactMap { event -> (Instant, Instant?)? in
            if case .stepFailed(_, _, _, let retryAt) = event.kind { return (event.time, retryAt) }
            return nil
        }
        let delays = failures.map { ($0.1! - $0.0).milliseconds / 1000 }
        #expect(delays == [1, 3, 9, 20, 20])
        #expect(sim.times("StepScheduled", step: "a") == [
            t0, t0 + .seconds(2), t0 + .seconds(6), t0 + .seconds(16), t0 + .seconds(37), t0 + .seconds(58),
        ])
        #expect(sim.dispatched.map(\.idempotencyKey) == (1...6).map { "wf/a/\($0)" })
        #expect(sim.machine.state.output == .null)
        #expect(sim.machine.state.step("a").output == ["attempt": 6])
    }

    @Test func defaultMaximumIntervalIsHundredTimesTheInitial() {
        let policy = RetryPolicy(initialInterval: .milliseconds(500))
        #expect(policy.delay(afterAttempt: 1) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 2) == .seconds(1))
        #expect(policy.delay(afterAttempt: 7) == .seconds(32))
        #expect(policy.delay(afterAttempt: 30) == .seconds(50))
    }

    @Test func exhaustedAttemptsFailTheWorkflow() throws {
        var sim = try Simulation(
            """
            name: r
            steps:
              a: { activity: work, retry: { maximum_attempts: 3 } }
              b: { activity: work, depends_on: [a] }
            """, script: Self.failing())
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(sim.machine.state.failedStep == "a")
        #expect(sim.machine.state.failure?.type == "Boom")
        #expect(sim.dispatched.map(\.idempotencyKey) == ["wf/a/1", "wf/a/2", "wf/a/3"])
        guard case .stepFailed(_, 3, _, nil) = sim.history[sim.history.count - 2].kind else {
            Issue.record("expected a final StepFailed, got \(sim.history[sim.history.count - 2].kind)")
            return
        }
        #expect(sim.machine.state.timers.isEmpty)
    }

    @Test func nonRetryableErrorTypesAndFlagFailAtOnce() throws {
        var byType = try Simulation(
            "name: r\nsteps:\n  a: { activity: work, retry: { non_retryable_error_types: [Declined] } }\n",
            script: Self.failing("Declined"))
        byType.run()
        #expect(byType.machine.state.status == .failed)
        #expect(byType.dispatched.count == 1)

        var byFlag = try Simulation(
            "name: r\nsteps:\n  a: { activity: work }\n", script: Self.failing("Other", nonRetryable: true))
        byFlag.run()
        #expect(byFlag.machine.state.status == .failed)
        #expect(byFlag.dispatched.count == 1)

        var retryable = try Simulation(
            "name: r\nsteps:\n  a: { activity: work, retry: { non_retryable_error_types: [Declined] } }\n",
            script: Self.failing("Transient", first: 2))
        retryable.run()
        #expect(retryable.machine.state.status == .completed)
        #expect(retryable.dispatched.count == 3)
    }

    @Test func startToCloseTimeoutCountsAsAFailedAttempt() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: work, start_to_close_timeout: 5s, retry: { maximum_attempts: 2 } }\n",
            script: { task in task.attempt == 1 ? (.seconds(60), .complete("late")) : (.seconds(1), .complete("ok")) })
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.history.contains {
            $0.kind == .stepTimedOut(step: "a", attempt: 1, timeout: .startToClose, retryAt: t0 + .seconds(6))
                && $0.time == t0 + .seconds(5)
        })
        #expect(sim.machine.state.step("a").output == "ok")
        #expect(sim.machine.state.closedAt == t0 + .seconds(7))
    }

    @Test func scheduleToStartTimeoutWhenNoExecutorPicksItUp() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: remote, schedule_to_start_timeout: 30s, retry: { maximum_attempts: 1 } }\n",
            startsOnDispatch: { _ in false }, script: { _ in (.zero, .hang) })
        #expect(sim.machine.state.step("a").status == .scheduled)
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(sim.history.contains { $0.kind == .stepTimedOut(step: "a", attempt: 1, timeout: .scheduleToStart, retryAt: nil) && $0.time == t0 + .seconds(30) })
    }

    @Test func scheduleToStartTimerIsDisarmedByStart() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: remote, schedule_to_start_timeout: 30s }\n",
            startsOnDispatch: { _ in false }, script: { _ in (.zero, .hang) })
        sim.send(.activityStarted(step: "a", attempt: 1))
        #expect(sim.machine.state.step("a").status == .started)
        #expect(sim.machine.state.timers.isEmpty)
        sim.send(.activityCompleted(step: "a", attempt: 1, output: 1))
        #expect(sim.machine.state.status == .completed)
    }

    @Test func heartbeatTimeoutIsExtendedByHeartbeatsAndDetailsReachTheNextAttempt() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: work, heartbeat_timeout: 10s, retry: { maximum_attempts: 2 } }\n",
            script: { task in task.attempt == 1 ? (.zero, .hang) : (.seconds(1), .complete("done")) })
        sim.inject(.activityHeartbeat(step: "a", attempt: 1, details: ["progress": 40]), at: t0 + .seconds(8))
        sim.run(until: t0 + .seconds(17))
        #expect(sim.machine.state.step("a").status == .started)
        #expect(sim.machine.state.step("a").attempt == 1)
        sim.run()
        #expect(sim.history.contains { $0.kind == .stepTimedOut(step: "a", attempt: 1, timeout: .heartbeat, retryAt: t0 + .seconds(19)) && $0.time == t0 + .seconds(18) })
        #expect(sim.dispatched.last?.heartbeatDetails == ["progress": 40])
        #expect(sim.machine.state.status == .completed)
    }

    @Test func anHourOfHeartbeatsEverySecondAddsAFewHundredEventsAndTheLatestDetailsReachTheRetry() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: work, heartbeat_timeout: 60s, retry: { maximum_attempts: 2, initial_interval: 1s } }\n",
            start: t0, script: { task in task.attempt == 1 ? (.zero, .hang) : (.seconds(1), .complete("done")) })
        for second in 1...3600 {
            sim.inject(.activityHeartbeat(step: "a", attempt: 1, details: ["done": .number(Double(second))]),
                       at: t0 + .seconds(Int64(second)))
        }
        sim.inject(.activityFailed(step: "a", attempt: 1, failure: ActivityFailure(type: "Crash", message: "power cut")),
                   at: t0 + .seconds(3600) + .milliseconds(500))
        sim.run(limit: 20_000)
        #expect(sim.machine.state.status == .completed)
        // Alive all along: never timed out, though the timer was re-armed only when it fired.
        #expect(!sim.history.contains { $0.kind.typeName == "StepTimedOut" })
        let heartbeats = sim.history.filter { $0.kind.typeName == "StepHeartbeat" }.count
        let rearmed = sim.history.filter { $0.kind.typeName == "TimerStarted" }.count
        #expect(heartbeats <= 3600 / 30 + 2, "\(heartbeats) heartbeat events")
        #expect(rearmed <= 3600 / 60 + 3, "\(rearmed) timer events")
        #expect(sim.history.count < 250, "\(sim.history.count) events for an hour of heartbeats")
        // The retry resumes from the very last details, recorded when the attempt failed.
        #expect(sim.dispatched.last?.heartbeatDetails == ["done": 3600])
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func heartbeatsKeptInMemoryStillExtendTheLeaseAndItsEndTimesOut() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: work, heartbeat_timeout: 10s, retry: { maximum_attempts: 1 } }\n",
            start: t0, script: { _ in (.zero, .hang) })
        // Heartbeats every 2 s until 41 s, then silence: the attempt times out 10 s after the last one.
        for second in stride(from: 1, through: 41, by: 2) {
            sim.inject(.activityHeartbeat(step: "a", attempt: 1, details: ["at": .number(Double(second))]),
                       at: t0 + .seconds(Int64(second)))
        }
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(sim.times("StepTimedOut", step: "a") == [t0 + .seconds(51)])
        // Recorded: the first heartbeat, the 30 s one, and the last before the timeout.
        #expect(sim.history.filter { $0.kind.typeName == "StepHeartbeat" }.count <= 3)
        #expect(sim.machine.state.step("a").heartbeatDetails == ["at": 41])
        #expect(sim.fold() == sim.machine.state)
    }

    @Test func scheduleToCloseBoundsAllAttempts() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: work, schedule_to_close_timeout: 10s, retry: { initial_interval: 3s, backoff_coefficient: 1 } }\n",
            script: Self.failing(after: .seconds(2)))
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(sim.machine.state.closedAt! <= t0 + .seconds(10))
        #expect(sim.dispatched.count == 2)
        #expect(sim.history.filter { $0.kind.typeName == "StepFailed" }.count == 2)
    }

    @Test func scheduleToCloseTimerFailsAHangingStep() throws {
        var sim = try Simulation(
            "name: t\nsteps:\n  a: { activity: work, schedule_to_close_timeout: 1m }\n", script: { _ in (.zero, .hang) })
        sim.run()
        #expect(sim.machine.state.status == .failed)
        #expect(sim.history.contains { $0.kind == .stepTimedOut(step: "a", attempt: 1, timeout: .scheduleToClose, retryAt: nil) && $0.time == t0 + .minutes(1) })
    }
}

@Suite(.timeLimit(.minutes(2))) struct SignalTests {
    let t0 = Instant(millisecondsSinceEpoch: 1_000_000)
    let source = """
        name: approval
        steps:
          brief: { activity: work }
          approval:
            depends_on: [brief]
            wait_for_signal: { name: approve, timeout: 1h, on_timeout: continue }
          deploy:
            depends_on: [approval]
            when: "${steps.approval.signal.approved} == true"
            activity: work
        """

    @Test func waitCompletesOnTheSignalAndWhenReadsItsPayload() throws {
        var sim = try Simulation(source, script: { _ in (.seconds(1), .complete("ok")) })
        sim.inject(.signal(name: "approve", payload: ["approved": true], requestID: "r1"), at: t0 + .seconds(30))
        sim.inject(.signal(name: "approve", payload: ["approved": false], requestID: "r1"), at: t0 + .seconds(31))
        sim.run()
        #expect(sim.machine.state.status == .completed)
        #expect(sim.machine.state.step("deploy").status == .completed)
        #expect(sim.history.filter { $0.kind.typeName == "SignalReceived" }.count == 1)
    }

    @Test func aSignalThatArrivedEarlierIsUsed() throws {
        var sim = try Simulation(source, script: { _ in (.seconds(10), .complete("ok")) })
        sim.send(.signal(name: "approve", payload: ["approved": false], requestID: nil))
        sim.run()
        #expect(sim.machine.state.step("approval").output == ["approved": false])
        #expect(sim.machine.state.step("deploy").status == .skipped)
        #expect(sim.machine.state.pendingSignals.isEmpty)
    }

    @Test func timeoutWithContinueProceedsWithANullSignal() throws {
        var sim = try Simulation(source, script: { _ in (.seconds(1), .complete("ok")) })
        sim.run()
        #expect(sim.history.contains { $0.kind == .signalWaitTimedOut(step: "approval") && $0.time == t0 + .seconds(1) + .hours(1) })
        #expect(sim.machine.state.step("deploy").status == .skipped)
        #expect(sim.machine.state.status == .completed)
    }

    @Test func cancelAndTerminateCloseTheWorkflow() throws {
        var cancelled = try Simulation(source, script: { _ in (.zero, .hang) })
        cancelled.send(.cancel(reason: "user"))
        #expect(cancelled.machine.state.status == .cancelled)
        var terminated = try Simulation(source, script: { _ in (.zero, .hang) })
        terminated.send(.terminate(reason: "ops"))
        #expect(terminated.machine.state.status == .terminated)
        #expect(terminated.machine.state.timers.isEmpty)
    }
}
