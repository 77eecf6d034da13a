import BatonCore
import BatonEngine
import Testing

/// RuntimeLimits: a run reaching its history limit fails instead of growing; pending signals past
/// the limit are refused unless a waiting step consumes them; definitions over their size or step
/// limits are refused. Every error names the limit.
@Suite(.timeLimit(.minutes(1))) struct RuntimeLimitsTests {
    static let gated = """
        name: gated
        steps:
          wait: { wait_for_signal: { name: go } }
          done: { activity: builtin.echo, depends_on: [wait], input: { ok: 1 } }
        """

    static func runtime(_ change: (inout RuntimeLimits) -> Void) -> WorkflowRuntime {
        var limits = RuntimeLimits()
        change(&limits)
        return WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock(), limits: limits)
    }

    @Test func aRunReachingItsHistoryLimitFailsAndStopsGrowing() async throws {
        let runtime = Self.runtime { $0.historyEvents = 12 }
        _ = try await runtime.register(source: Self.gated)
        let id = try await runtime.startWorkflow("gated", workflowID: "h1").id
        var sent = 0
        while try await runtime.describe(id).status == .running {
            try await runtime.signal(id, name: "noise", payload: ["n": .number(Double(sent))])
            sent += 1
            #expect(sent < 20, "the run kept growing past its limit")
            if sent >= 20 { break }
        }
        let state = try await runtime.describe(id).state
        #expect(state.status == .failed)
        #expect(state.failure?.type == RuntimeLimits.historyLimitErrorType)
        #expect(state.failure?.message.contains("(history_events)") == true)
        #expect(state.failure?.message.contains("12") == true)
        let history = try await runtime.history(id, afterEventID: 0, limit: 100)
        #expect(history.count <= 12 + 2 && history.count >= 12)
        #expect(history.last?.kind.typeName == "WorkflowFailed")
        await #expect(throws: BatonError.self) { try await runtime.signal(id, name: "noise") }
        await runtime.shutdown()
    }

    @Test func pendingSignalsPastTheLimitAreRefusedUnlessConsumed() async throws {
        let runtime = Self.runtime { $0.pendingSignals = 2 }
        _ = try await runtime.register(source: Self.gated)
        let id = try await runtime.startWorkflow("gated", workflowID: "p1").id
        try await runtime.signal(id, name: "a")
        try await runtime.signal(id, name: "b")
        do {
            try await runtime.signal(id, name: "c")
            Issue.record("a third pending signal was accepted")
        } catch {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("(pending_signals)") && error.message.contains("2"))
        }
        // The waiting step consumes `go` at once: accepted at the limit.
        try await runtime.signal(id, name: "go", payload: ["ok": true])
        #expect(try await runtime.describe(id).state.step("wait").status == .completed)
        await runtime.shutdown()
    }

    @Test func definitionsOverTheirLimitsAreRefused() async throws {
        let small = Self.runtime { $0.definitionBytes = 64 }
        do {
            _ = try await small.register(source: Self.gated)
            Issue.record("a definition over definition_bytes was accepted")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains("(definition_bytes)")
                && error.message.contains("64"))
        }
        await small.shutdown()
        let few = Self.runtime { $0.definitionSteps = 1 }
        do {
            _ = try await few.register(source: Self.gated)
            Issue.record("a definition over definition_steps was accepted")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains("(definition_steps)")
                && error.message.contains("2 steps"))
        }
        let one = try await few.register(source: "name: one\nsteps:\n  a: { activity: builtin.echo }\n")
        #expect(one.version == 1)
        await few.shutdown()
    }
}
