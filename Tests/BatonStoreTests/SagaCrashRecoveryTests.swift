import BatonCodec
import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

/// SIGKILLs a child running workflows of which every other one fails at its last step and
/// compensates, then lets a last child recover. Kills land between a step's completion and its
/// dependents' dispatch and in the middle of compensations; every run must still end right.
@Suite(.timeLimit(.minutes(10))) struct SagaCrashRecoveryTests {
    /// `workflow/step` for committed step completions and `workflow/step.compensate` for committed compensations.
    static func completedKeys(_ path: String) throws -> Set<String> {
        let connection = try SQLiteConnection(path: path)
        let rows = try connection.query(
            "SELECT workflow_id, payload FROM events WHERE type IN ('StepCompleted', 'CompensationCompleted')"
        ) { row in (row.text(0), row.blob(1)) }
        var result: Set<String> = []
        for (workflow, payload) in rows {
            switch try EventCodec.decode(payload) {
            case .stepCompleted(let step, _, _): result.insert("\(workflow)/\(step)")
            case .compensationCompleted(let step): result.insert("\(workflow)/\(SagaState.taskStep(for: step))")
            default: break
            }
        }
        return result
    }

    /// Open workflows whose saga is running.
    static func openSagas(_ path: String) async throws -> Int {
        let store = try SQLiteWorkflowStore(path: path)
        defer { store.close() }
        return try await store.loadOpenWorkflows().filter { $0.state.saga != nil }.count
    }

    @Test func killsBetweenStepsAndDuringCompensationRecoverAndFinishCorrectly() async throws {
        guard let binary = CrashRecoveryTests.childBinary() else {
            Issue.record("baton-bench was not built next to the tests; run `swift build` first")
            return
        }
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let log = temp.directory.appendingPathComponent("executions.log").path
        var acknowledged: [String] = []
        var recovered = 0
        var sagasAtKill = 0
        var completedAtKill: [Set<String>] = []
        let delays: [Duration] = [.milliseconds(300), .milliseconds(80), .milliseconds(450), .milliseconds(200)]
        for (generation, delay) in delays.enumerated() {
            let run = try await CrashRecoveryTests.runChild(
                binary, arguments: ["saga-crash-child", "--db", temp.path, "--log", log, "--generation", "\(generation)"],
                killAfter: delay)
            #expect(!run.finished)
            acknowledged += run.acknowledged
            recovered += run.recovered
            completedAtKill.append(try Self.completedKeys(temp.path))
            sagasAtKill += try await Self.openSagas(temp.path)
        }
        let final = try await CrashRecoveryTests.runChild(
            binary,
            arguments: ["saga-crash-child", "--db", temp.path, "--log", log, "--generation", "\(delays.count)", "--recover-only"],
            killAfter: nil)
        #expect(final.finished)
        recovered += final.recovered
        #expect(acknowledged.count > 50, "too few workflows were started to test anything")
        #expect(recovered > 0, "no kill hit an open workflow")
        #expect(sagasAtKill > 0, "no kill hit a workflow in the middle of its compensations")

        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let (definition, _) = try await DefinitionRegistry(store: store).definition(named: "saga_crash_test", version: 1)
        for id in acknowledged {
            guard let stored = try await store.loadWorkflow(id), let index = Int(id.split(separator: "w").last ?? "") else {
                Issue.record("acknowledged workflow \(id) is missing")
                continue
            }
            let fails = index % 2 == 1
            let state = stored.state
            #expect(state.status == (fails ? .compensated : .completed), "\(id)")
            let history = try await store.history(id, afterEventID: 0, limit: .max)
            #expect(history.map(\.id) == Array(1...Int64(history.count)), "\(id): event ids not contiguous")
            var folded = WorkflowState(workflowID: id)
            for event in history { folded.apply(event, definition: definition) }
            #expect(folded == state, "\(id): fold(history) != snapshot")
            for step in ["a", "b", "c", "d"] {
                #expect(history.filter { $0.kind.typeName == "StepScheduled" && $0.kind.step == step }.count == 1, "\(id)/\(step)")
            }
            let compensated = history.compactMap { if case .compensationCompleted(let step) = $0.kind { step } else { nil } }
            if fails {
                #expect(state.failedStep == "d")
                #expect(compensated == Array(state.completionOrder.reversed()), "\(id): compensation order")
                #expect(Set(compensated) == ["a", "b", "c"], "\(id)")
                #expect(history.filter { $0.kind.typeName == "CompensationScheduled" }.count == 3, "\(id): a compensation ran twice")
            } else {
                #expect(compensated.isEmpty)
            }
        }
        #expect(try store.storedTaskKeys().isEmpty)
        #expect(try await store.loadOpenWorkflows().isEmpty)

        // No step or compensation whose completion was committed before kill g ran again later.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        var repeats: [String] = []
        for line in lines {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let generation = Int(parts[0]) else { continue }
            let key = parts[1].split(separator: "/")
            guard key.count == 3 else { continue }
            let stepKey = "\(key[0])/\(key[1])"
            for (killed, completed) in completedAtKill.enumerated() where generation > killed && completed.contains(stepKey) {
                repeats.append("\(line) (completed before kill \(killed))")
            }
        }
        #expect(repeats.isEmpty, "\(repeats.prefix(5))")
    }
}
