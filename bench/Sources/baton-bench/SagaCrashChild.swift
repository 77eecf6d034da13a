import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// The saga crash test's child: like ``CrashChild``, but every other workflow fails at its last step,
/// so kills land between step completions and dependents' dispatch and in the middle of compensations.
/// Every activity and compensation execution is logged as `<generation> <idempotency key>`.
struct SagaCrashChild {
    static let definition = """
        name: saga_crash_test
        steps:
          a: { activity: crash.work, compensate: { activity: crash.undo, input: { of: "${self.output.key}" } } }
          b: { activity: crash.work, depends_on: [a], compensate: { activity: crash.undo, input: { of: "${self.output.key}" } } }
          c: { activity: crash.work, depends_on: [a], compensate: { activity: crash.undo, input: { of: "${self.output.key}" } } }
          d: { activity: crash.last, depends_on: [b, c], input: { fail: "${input.fail}" }, retry: { maximum_attempts: 1 } }
        output: { done: true }
        on_failure: compensate
        """

    let database: String
    let log: String
    let generation: Int
    let recoverOnly: Bool

    init(_ arguments: Arguments) {
        database = arguments.require("db")
        log = arguments.require("log")
        generation = arguments.int("generation", default: 0)
        recoverOnly = arguments.flag("recover-only")
    }

    func run() async {
        let descriptor = open(log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else {
            complain("cannot open \(log)")
            exit(1)
        }
        let clock = SystemClock(epochMilliseconds: epochMilliseconds())
        let activities = InProcessActivities(clock: clock)
        let generation = self.generation
        let record: @Sendable (String) -> Void = { key in
            let line = "\(generation) \(key)\n"
            _ = line.withCString { write(descriptor, $0, strlen($0)) }
        }
        activities.register("crash.work") { context in
            record(context.idempotencyKey)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...4)))
            return ["key": .string(context.idempotencyKey)]
        }
        activities.register("crash.last") { context in
            record(context.idempotencyKey)
            if context.input["fail"]?.boolValue == true {
                throw ActivityFailure(type: "Injected", message: "the last step fails", nonRetryable: true)
            }
            return "ok"
        }
        activities.register("crash.undo") { context in
            record(context.idempotencyKey)
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...20)))
            return .null
        }
        do {
            let runtime = try await WorkflowRuntime.open(path: database, durability: .full, clock: clock, activities: activities)
            emit("RECOVERED \(await runtime.cachedWorkflowCount())")
            _ = try await runtime.register(source: Self.definition)
            if !recoverOnly {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<16 {
                        group.addTask {
                            var index = worker
                            while true {
                                let id = "s\(generation)-w\(index)"
                                _ = try await runtime.startWorkflow(
                                    "saga_crash_test", workflowID: id, input: ["fail": .bool(index % 2 == 1)])
                                emit("ACK \(id)")
                                index += 16
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            while await runtime.cachedWorkflowCount() > 0 { try await Task.sleep(for: .milliseconds(5)) }
            await runtime.close()
            emit("DONE")
        } catch {
            complain("saga-crash-child failed: \(error)")
            exit(1)
        }
    }
}
