import BatonCore
import BatonEngine
import Foundation
import Synchronization
import Testing

let threeStep = """
    name: three
    steps:
      a: { activity: builtin.echo, input: { n: "${input.n}" } }
      b: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
      c: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
    output: { b: "${steps.b.output.from_a}", c: "${steps.c.output.from_a}" }
    """

/// Waits until `condition` holds, checking it between yields to the tasks it waits on; records a
/// failure (a hang becomes a message) when it still does not hold after `timeout`.
func eventually(timeout: Duration = .seconds(30), sourceLocation: Testing.SourceLocation = #_sourceLocation,
                _ condition: () async -> Bool) async {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        if ContinuousClock.now >= deadline {
            Issue.record("the awaited condition did not hold within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try? await Task.sleep(for: .milliseconds(1))
    }
}

@Suite(.timeLimit(.minutes(2))) struct RuntimeTests {
    @Test func runsAThreeStepWorkflowToCompletion() async throws {
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: ManualClock())
        try await runtime.recover()
        let ref = try await runtime.register(source: threeStep)
        #expect(ref == DefinitionRef(name: "three", version: 1))
        let id = try await runtime.startWorkflow("three", input: ["n": 7]).id
        let result = try await runtime.awaitCompletion(id)
        #expect(result.status == .completed)
        #expect(result.state.output == ["b": 7, "c": 7])
        let history = try await runtime.history(id)
        #expect(history.map(\.id) == Array(1...Int64(history.count)))
        #expect(history.filter { $0.kind.typeName == "StepCompleted" }.count == 3)
        #expect(await runtime.cachedWorkflowCount() == 0)
        #expect(store.storedTasks(id).isEmpty)
        await runtime.shutdown()
    }

    @Test func registryVersionsByContent() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        let v1 = try await runtime.register(source: threeStep)
        let again = try await runtime.register(source: threeStep + "\n# a comment changes nothing\n")
        let v2 = try await runtime.register(source: threeStep.replacingOccurrences(of: "builtin.echo", with: "echo2"))
        let back = try await runtime.register(source: threeStep)
        let versions: [Int] = [v1.version, again.version, v2.version, back.version]
        #expect(versions == [1, 1, 2, 1])
        #expect(runtime.registry.cachedDefinition(named: "three", version: nil)?.1 == 2)
        #expect(runtime.registry.cachedDefinition(named: "three", version: 1)?.0.steps.first?.activity == "builtin.echo")
        #expect(runtime.registry.cachedDefinition(named: "other", version: nil) == nil)
        let pinned = try await runtime.startWorkflow("three", version: 1, input: ["n": 1]).id
        #expect(try await runtime.describe(pinned).definition == DefinitionRef(name: "three", version: 1))
        let latest = try await runtime.startWorkflow("three", input: ["n": 1]).id
        #expect(try await runtime.describe(latest).definition.version == 2)
        await #expect(throws: BatonError.self) { try await runtime.register(source: "name: bad\nsteps: {}\n") }
        await #expect(throws: BatonError.self) { try await runtime.startWorkflow("missing").id }
        await runtime.shutdown()
    }

    @Test func explicitIDsAreIdempotentOrRejected() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: threeStep)
        let first = try await runtime.startWorkflow("three", workflowID: "order-1", input: ["n": 1]).id
        let second = try await runtime.startWorkflow("three", workflowID: "order-1", input: ["n": 2]).id
        #expect(first == "order-1" && second == "order-1")
        _ = try await runtime.awaitCompletion("order-1")
        #expect(try await runtime.describe("order-1").state.input == ["n": 1])
        await #expect(throws: BatonError.self) {
            try await runtime.startWorkflow("three", workflowID: "order-1", policy: .reject).id
        }
        await runtime.shutdown()
    }

    @Test func retriesWaitForDurableBackoffTimersOnTheInjectedClock() async throws {
        let clock = ManualClock(start: Instant(millisecondsSinceEpoch: 10_000))
        let store = InMemoryWorkflowStore()
        let runtime = WorkflowRuntime(store: store, clock: clock)
        _ = try await runtime.register(source: """
            name: flaky
            steps:
              a:
                activity: builtin.fail
                input: { type: Flaky, message: nope, attempts: 2 }
                retry: { initial_interval: 2s, maximum_attempts: 5 }
            """)
        let id = try await runtime.startWorkflow("flaky").id
        await eventually { store.storedTimers(id).count == 1 }
        #expect(store.storedTimers(id).first?.fireAt == Instant(millisecondsSinceEpoch: 12_000))
        clock.advance(by: .seconds(2))
        await eventually { store.storedTimers(id).first?.fireAt == Instant(millisecondsSinceEpoch: 16_000) }
        clock.advance(by: .seconds(4))
        let result = try await runtime.awaitCompletion(id)
        #expect(result.status == .completed)
        #expect(result.state.step("a").attempt == 3)
        #expect(store.storedTimers(id).isEmpty)
        await runtime.shutdown()
    }

    @Test func signalsReachWaitingStepsAndClosedWorkflowsRefuseThem() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: """
            name: gate
            steps:
              wait: { wait_for_signal: { name: go } }
              after: { activity: builtin.echo, depends_on: [wait], input: "${steps.wait.signal.who}" }
            output: "${steps.after.output}"
            """)
        let id = try await runtime.startWorkflow("gate").id
        try await runtime.signal(id, name: "go", payload: ["who": "ops"], requestID: "req-1")
        let result = try await runtime.awaitCompletion(id)
        #expect(result.state.output == "ops")
        await #expect(throws: BatonError.self) { try await runtime.signal(id, name: "go") }
        await #expect(throws: BatonError.self) { try await runtime.signal("unknown", name: "go") }
        await runtime.shutdown()
    }

    @Test func recoveryRedispatchesInFlightAttemptsWithTheSameIdempotencyKey() async throws {
        let store = InMemoryWorkflowStore()
        let clock = ManualClock()
        let seen = Mutex<[String]>([])
        let release = Mutex(false)

        let firstActivities = InProcessActivities(clock: clock)
        firstActivities.register("slow") { context in
            seen.withLock { $0.append("first:" + context.idempotencyKey) }
            while !release.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            return "never delivered"
        }
        let first = WorkflowRuntime(store: store, clock: clock, activities: firstActivities)
        _ = try await first.register(source: "name: s\nsteps:\n  a: { activity: slow }\n  b: { activity: builtin.echo, depends_on: [a] }\n")
        let id = try await first.startWorkflow("s", workflowID: "wf-r").id
        await eventually { seen.withLock { $0.count == 1 } }
        await first.shutdown()

        let secondActivities = InProcessActivities(clock: clock)
        secondActivities.register("slow") { context in
            seen.withLock { $0.append("second:" + context.idempotencyKey) }
            return "done"
        }
        let second = WorkflowRuntime(store: store, clock: clock, activities: secondActivities)
        #expect(try await second.recover() == 1)
        let result = try await second.awaitCompletion(id)
        release.withLock { $0 = true }
        #expect(result.status == .completed)
        #expect(seen.withLock { $0 } == ["first:wf-r/a/1", "second:wf-r/a/1"])
        let history = try await second.history(id)
        #expect(history.filter { $0.kind.typeName == "StepScheduled" && $0.kind.step == "a" }.count == 1)
        await second.shutdown()
    }

    @Test func recoveryReArmsTimers() async throws {
        let store = InMemoryWorkflowStore()
        let clock = ManualClock()
        let first = WorkflowRuntime(store: store, clock: clock)
        _ = try await first.register(source: "name: nap\nsteps:\n  nap: { sleep: 10m }\n")
        let id = try await first.startWorkflow("nap").id
        await first.shutdown()

        let second = WorkflowRuntime(store: store, clock: clock)
        try await second.recover()
        #expect(await second.armedTimerCount() == 1)
        await eventually { clock.sleeperCount > 0 }
        clock.advance(by: .minutes(10))
        #expect(try await second.awaitCompletion(id).status == .completed)
        await second.shutdown()
    }

    @Test func inProcessHeartbeatsReachTheNextAttempt() async throws {
        let store = InMemoryWorkflowStore()
        let clock = ManualClock()
        let activities = InProcessActivities(clock: clock)
        let seen = Mutex<[JSONValue]>([])
        activities.register("resumable") { context in
            seen.withLock { $0.append(context.task.heartbeatDetails) }
            if context.task.attempt == 1 {
                await context.heartbeat(["done": 3])
                throw ActivityFailure(type: "Crash", message: "lost the connection")
            }
            return ["resumed_from": context.task.heartbeatDetails]
        }
        let runtime = WorkflowRuntime(store: store, clock: clock, activities: activities)
        _ = try await runtime.register(source: "name: hb\nsteps:\n  a: { activity: resumable, retry: { initial_interval: 1s } }\n")
        let id = try await runtime.startWorkflow("hb").id
        await eventually { store.storedTimers(id).count == 1 }
        clock.advance(by: .seconds(1))
        let result = try await runtime.awaitCompletion(id)
        #expect(result.state.step("a").output == ["resumed_from": ["done": 3]])
        #expect(seen.withLock { $0 } == [.null, ["done": 3]])
        #expect(try await runtime.history(id).contains { $0.kind == .stepHeartbeat(step: "a", attempt: 1, details: ["done": 3]) })
        await runtime.shutdown()
    }

    @Test func unregisteredActivitiesFailWithoutRetry() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: "name: u\nsteps:\n  a: { activity: nobody.home }\n")
        let id = try await runtime.startWorkflow("u").id
        let result = try await runtime.awaitCompletion(id)
        #expect(result.status == .failed)
        #expect(result.state.failure?.type == "ActivityNotRegistered")
        await runtime.shutdown()
    }

    @Test func simulateIsDeterministicPerIdempotencyKey() async throws {
        let clock = ManualClock()
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock)
        _ = try await runtime.register(source: """
            name: sim
            steps:
              a:
                activity: builtin.simulate
                input: { duration: 0ms, failure_probability: 0.5, seed: 42, output: { ok: true } }
                retry: { initial_interval: 1s, backoff_coefficient: 1, maximum_attempts: 1 }
            """)
        var statuses: [String: WorkflowStatus] = [:]
        for index in 0..<20 {
            let id = try await runtime.startWorkflow("sim", workflowID: "sim-\(index)").id
            statuses[id] = try await runtime.awaitCompletion(id).status
        }
        let failed = statuses.values.filter { $0 == .failed }.count
        #expect(failed > 0 && failed < 20)
        for index in 0..<20 {
            let id = "sim-\(index)"
            let expectedFailure = InProcessActivities.unitHash(seed: 42, key: "\(id)/a/1") < 0.5
            #expect((statuses[id] == .failed) == expectedFailure)
        }
        await runtime.shutdown()
    }
}

/// A store that fails chosen commits (by 1-based commit number), to exercise eviction and restore.
final class FlakyStore: WorkflowStore {
    let inner = InMemoryWorkflowStore()
    private let failing: Set<Int>
    private let count = Mutex(0)

    init(failing: Set<Int>) { self.failing = failing }

    func commit(_ change: WorkflowChange, isolation: isolated (any Actor)? = #isolation) async throws(BatonError) {
        let number = count.withLock { count -> Int in
            count += 1
            return count
        }
        if failing.contains(number) { throw BatonError(.storage, "injected failure of commit \(number)") }
        try await inner.commit(change, isolation: isolation)
    }

    func loadWorkflow(_ workflowID: String) async throws(BatonError) -> StoredWorkflow? { try await inner.loadWorkflow(workflowID) }
    func loadOpenWorkflows() async throws(BatonError) -> [StoredWorkflow] { try await inner.loadOpenWorkflows() }
    func history(_ workflowID: String, afterEventID: Int64, limit: Int) async throws(BatonError) -> [WorkflowEvent] {
        try await inner.history(workflowID, afterEventID: afterEventID, limit: limit)
    }
    func saveDefinition(_ record: DefinitionRecord) async throws(BatonError) { try await inner.saveDefinition(record) }
    func definitionVersions(_ name: String) async throws(BatonError) -> [DefinitionRecord] { try await inner.definitionVersions(name) }
}

@Suite(.timeLimit(.minutes(2))) struct EvictionTests {
    @Test func aLostResultIsRecoveredByReDispatchingTheSameAttempt() async throws {
        // Commit 1 starts the workflow; commit 2 would record a's result and is made to fail.
        let store = FlakyStore(failing: [2])
        let clock = ManualClock()
        let activities = InProcessActivities(clock: clock)
        let keys = Mutex<[String]>([])
        activities.register("work") { context in
            keys.withLock { $0.append(context.idempotencyKey) }
            return "ok"
        }
        let runtime = WorkflowRuntime(store: store, clock: clock, activities: activities)
        _ = try await runtime.register(source: "name: e\nsteps:\n  a: { activity: work }\n  b: { activity: builtin.echo, depends_on: [a] }\n")
        let id = try await runtime.startWorkflow("e", workflowID: "evicted").id
        await eventually { runtime.deliveryFailureCount == 1 }
        #expect(await runtime.cachedWorkflowCount() == 0)
        let result = try await runtime.awaitCompletion(id)
        #expect(result.status == .completed)
        #expect(keys.withLock { $0 } == ["evicted/a/1", "evicted/a/1"])
        let history = try await runtime.history(id)
        #expect(history.map(\.id) == Array(1...Int64(history.count)))
        #expect(history.filter { $0.kind.typeName == "StepCompleted" && $0.kind.step == "a" }.count == 1)
        await runtime.shutdown()
    }
}
