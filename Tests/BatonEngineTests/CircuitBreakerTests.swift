import BatonCore
import BatonEngine
import Synchronization
import Testing

let breakerDefinition = """
    name: notion_sync
    circuit_breakers:
      notion: { failure_threshold: 2, reset_timeout: 30s, half_open_max_calls: 1 }
    steps:
      sync: { activity: notion.write, circuit_breaker: notion, retry: { maximum_attempts: 1 } }
    """

@Suite(.timeLimit(.minutes(2))) struct CircuitBreakerTests {
    final class Service: Sendable {
        let healthy = Mutex(false)
        let calls = Mutex(0)
    }

    static func runtime(_ service: Service, clock: ManualClock) -> WorkflowRuntime {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
        runtime.activities.register("notion.write") { _ in
            service.calls.withLock { $0 += 1 }
            if service.healthy.withLock({ $0 }) { return ["ok": true] }
            throw ActivityFailure(type: "Unavailable", message: "notion is down")
        }
        return runtime
    }

    func run(_ runtime: WorkflowRuntime, _ name: String = "notion_sync") async throws -> (WorkflowDescription, [WorkflowEvent]) {
        let id = try await runtime.startWorkflow(name).id
        let result = try await runtime.awaitCompletion(id)
        return (result, try await runtime.history(id))
    }

    @Test func opensAfterConsecutiveFailuresFailsFastThenRecoversThroughHalfOpen() async throws {
        let service = Service()
        let clock = ManualClock()
        let runtime = Self.runtime(service, clock: clock)
        let transitions = Mutex<[String]>([])
        runtime.breakers.observe { transition in transitions.withLock { $0.append("\(transition.from.rawValue)>\(transition.to.rawValue)") } }
        _ = try await runtime.register(source: breakerDefinition)

        #expect(try await run(runtime).0.status == .failed)
        let (second, secondHistory) = try await run(runtime)
        #expect(second.status == .failed)
        #expect(secondHistory.contains { $0.kind == .circuitOpened(key: "notion") })
        #expect(runtime.circuitBreakers().first?.state == .open)
        #expect(runtime.circuitBreakers().first?.consecutiveFailures == 2)
        #expect(runtime.circuitBreakers().first?.halfOpenAt == clock.now() + .seconds(30))

        // While OPEN: no dispatch, a CircuitOpen failed attempt.
        let (third, thirdHistory) = try await run(runtime)
        #expect(service.calls.withLock { $0 } == 2)
        #expect(third.status == .failed)
        #expect(third.state.failure?.type == "CircuitOpen")
        #expect(thirdHistory.contains { $0.kind == .circuitRejected(step: "sync", attempt: 1, key: "notion", fallback: false) })

        // After reset_timeout one trial goes through; its success closes the breaker.
        clock.advance(by: .seconds(30))
        service.healthy.withLock { $0 = true }
        let (fourth, fourthHistory) = try await run(runtime)
        #expect(fourth.status == .completed)
        #expect(fourthHistory.map(\.kind.typeName).filter { $0.hasPrefix("Circuit") } == ["CircuitHalfOpened", "CircuitClosed"])
        #expect(runtime.circuitBreakers().first?.state == .closed)
        #expect(transitions.withLock { $0 } == ["CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED"])
        await runtime.shutdown()
    }

    @Test func aFailedTrialReopensAndResetCloses() async throws {
        let service = Service()
        let clock = ManualClock()
        let runtime = Self.runtime(service, clock: clock)
        _ = try await runtime.register(source: breakerDefinition)
        _ = try await run(runtime)
        _ = try await run(runtime)
        clock.advance(by: .seconds(31))
        let (_, trial) = try await run(runtime)
        #expect(trial.map(\.kind.typeName).filter { $0.hasPrefix("Circuit") } == ["CircuitHalfOpened", "CircuitOpened"])
        #expect(runtime.circuitBreakers().first?.state == .open)
        let status = try await runtime.resetCircuitBreaker("notion")
        #expect(status.state == .closed && status.consecutiveFailures == 0)
        await #expect(throws: BatonError.self) { try await runtime.resetCircuitBreaker("unknown") }
        await runtime.shutdown()
    }

    @Test func aFallbackCompletesTheStepWhileOpen() async throws {
        let service = Service()
        let runtime = Self.runtime(service, clock: ManualClock())
        _ = try await runtime.register(source: breakerDefinition)
        _ = try await runtime.register(source: """
            name: with_fallback
            circuit_breakers:
              notion: { failure_threshold: 2, reset_timeout: 30s }
            steps:
              sync: { activity: notion.write, circuit_breaker: notion, fallback: { cached: true }, retry: { maximum_attempts: 1 } }
            output: "${steps.sync.output}"
            """)
        _ = try await run(runtime)
        _ = try await run(runtime)
        let (result, history) = try await run(runtime, "with_fallback")
        #expect(result.status == .completed)
        #expect(result.state.output == ["cached": true])
        #expect(history.contains { $0.kind == .circuitRejected(step: "sync", attempt: 1, key: "notion", fallback: true) })
        #expect(service.calls.withLock { $0 } == 2)
        await runtime.shutdown()
    }

    @Test func aFailureRateOverTheWindowOpensTheBreaker() {
        let registry = CircuitBreakerRegistry()
        let policy = CircuitBreakerPolicy(failureThreshold: 100, failureRate: 0.5, window: 4)
        let t = Instant(millisecondsSinceEpoch: 0)
        for success in [true, false, true] { #expect(registry.record("k", policy: policy, success: success, now: t).transitions.isEmpty) }
        #expect(registry.record("k", policy: policy, success: false, now: t).transitions.map(\.to) == [.open])
        #expect(registry.admit("k", policy: policy, now: t).allowed == false)
    }

    @Test func serverConfiguredPoliciesApplyToUndeclaredKeys() {
        let registry = CircuitBreakerRegistry(policies: ["crm": CircuitBreakerPolicy(failureThreshold: 1)])
        let t = Instant(millisecondsSinceEpoch: 0)
        #expect(registry.record("crm", policy: nil, success: false, now: t).transitions.map(\.to) == [.open])
        #expect(registry.record("other", policy: nil, success: false, now: t).transitions.isEmpty)
    }

    @Test func reservationsChangeTheBreakerOnlyOnceConfirmedAndACancelLeavesItUntouched() {
        let registry = CircuitBreakerRegistry(policies: ["svc": CircuitBreakerPolicy(failureThreshold: 1)])
        let seen = Mutex<[CircuitState]>([])
        registry.observe { transition in seen.withLock { $0.append(transition.to) } }
        let t = Instant(millisecondsSinceEpoch: 0)
        _ = registry.admit("svc", policy: nil, now: t)
        let failure = registry.record("svc", policy: nil, success: false, now: t)
        #expect(failure.transitions.map(\.to) == [.open])
        // A later decision already sees the reserved failure...
        let next = registry.admit("svc", policy: nil, now: t)
        #expect(next.allowed == false)
        // ...but nothing is committed, listed or observed until the first decision's commit.
        #expect(registry.list().isEmpty)
        #expect(seen.withLock { $0 }.isEmpty)
        // Its commit failed: the breaker is as if it never happened.
        registry.cancel([failure.token])
        registry.cancel([next.token])
        #expect(registry.admit("svc", policy: nil, now: t).allowed)
        #expect(registry.snapshots(["svc"]).first?.state == .closed)

        let again = registry.record("svc", policy: nil, success: false, now: t)
        // Confirmed out of order: the later reservation waits for the earlier ones.
        registry.confirm([again.token])
        #expect(registry.list().isEmpty)
        registry.cancel([1, 2, 3, 4, 5].filter { $0 != again.token })
        #expect(registry.list().map(\.state) == [.open])
        #expect(seen.withLock { $0 } == [.open])
    }
}
