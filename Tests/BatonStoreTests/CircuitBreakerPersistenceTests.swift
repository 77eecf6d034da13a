import BatonCore
import BatonEngine
import BatonStore
import Testing

/// Breakers are committed with the decisions that change them and survive a restart.
@Suite(.timeLimit(.minutes(5))) struct CircuitBreakerPersistenceTests {
    static let source = """
        name: calls
        circuit_breakers:
          svc: { failure_threshold: 1, reset_timeout: 1h }
        steps:
          call: { activity: builtin.fail, circuit_breaker: svc, retry: { maximum_attempts: 1 } }
        """

    @Test func anOpenBreakerStaysOpenAcrossARestartAndAResetIsPersisted() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 5_000))
        let runtime = try await WorkflowRuntime.open(path: temp.path, clock: clock)
        _ = try await runtime.register(source: Self.source)
        let first = try await runtime.startWorkflow("calls").id
        #expect(try await runtime.awaitCompletion(first).status == .failed)
        #expect(runtime.circuitBreakers().map(\.state) == [.open])
        await runtime.close()

        let reopened = try await WorkflowRuntime.open(path: temp.path, clock: clock)
        let restored = try #require(reopened.circuitBreakers().first)
        #expect(restored.key == "svc")
        #expect(restored.state == .open)
        #expect(restored.consecutiveFailures == 1)
        // Still open after the restart: the next call fails fast without being dispatched.
        let second = try await reopened.startWorkflow("calls").id
        let closed = try await reopened.awaitCompletion(second)
        #expect(closed.state.failure?.type == "CircuitOpen")
        #expect(try await reopened.history(second).contains { $0.kind.typeName == "CircuitRejected" })
        try await reopened.resetCircuitBreaker("svc")
        await reopened.close()

        let again = try await WorkflowRuntime.open(path: temp.path, clock: clock)
        #expect(again.circuitBreakers().map(\.state) == [.closed])
        await again.close()
    }
}
