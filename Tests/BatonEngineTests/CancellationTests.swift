import BatonCore
import BatonEngine
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(2))) struct CancellationTests {
    @Test func cancelStopsRunningInProcessAttemptsThenCompensates() async throws {
        let clock = ManualClock()
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
        let stopped = Mutex<[String]>([])
        let undone = Mutex<[JSONValue]>([])
        runtime.activities.register("long") { context in
            do {
                try await context.sleep(for: .hours(1))
            } catch {
                stopped.withLock { $0.append(context.idempotencyKey) }
                throw error
            }
            return "finished"
        }
        runtime.activities.register("undo") { context in
            undone.withLock { $0.append(context.input) }
            return .null
        }
        _ = try await runtime.register(source: """
            name: cancellable
            steps:
              create: { activity: builtin.echo, input: { id: r1 }, compensate: { activity: undo, input: "${self.output.id}" } }
              wait: { activity: long, depends_on: [create] }
            on_failure: compensate
            """)
        let id = try await runtime.startWorkflow("cancellable").id
        await eventually { clock.sleeperCount == 1 }
        try await runtime.cancel(id, reason: "no longer needed")
        let result = try await runtime.awaitCompletion(id)
        #expect(result.status == .cancelled)
        await eventually { stopped.withLock { !$0.isEmpty } }
        #expect(stopped.withLock { $0 } == ["\(id)/wait/1"])
        #expect(undone.withLock { $0 } == ["r1"])
        let kinds = try await runtime.history(id).map(\.kind.typeName)
        #expect(Array(kinds.suffix(7)) == [
            "CancelRequested", "StepFailed", "SagaStarted", "CompensationStarted", "CompensationScheduled",
            "CompensationCompleted", "WorkflowCancelled",
        ])
        await runtime.shutdown()
    }
}
