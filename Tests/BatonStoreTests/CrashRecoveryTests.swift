import BatonCodec
import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

/// Kills a child process running workflows with SIGKILL, repeatedly, then lets a last child recover,
/// and checks: every acknowledged start completed, no step ran again after its completion was
/// committed, and every history is gap-free, duplicate-free and folds to its snapshot.
@Suite(.timeLimit(.minutes(10))) struct CrashRecoveryTests {
    struct ChildRun {
        var acknowledged: [String] = []
        var recovered = 0
        var finished = false
    }

    /// The `baton-bench` executable built next to this test bundle (or in a known scratch path).
    static func childBinary() -> URL? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for scratch in [".build-engine", ".build"] {
            candidates.append(root.appendingPathComponent(scratch).appendingPathComponent("debug"))
        }
        var directories = candidates
        for candidate in candidates where candidate.lastPathComponent.hasSuffix(".xctest") {
            directories.append(candidate.deletingLastPathComponent())
        }
        for directory in directories {
            let binary = directory.appendingPathComponent("baton-bench")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return nil
    }

    /// Runs the child; when `killAfter` is set, waits until it has acknowledged `minimumAcks` starts
    /// (so every round really is mid-flight, however slow the machine), then kills it after `killAfter`.
    static func runChild(_ binary: URL, arguments: [String], killAfter: Duration?, minimumAcks: Int = 20) async throws -> ChildRun {
        let child = try ChildProcess(binary, arguments: arguments)
        if let killAfter {
            let ack = Data("ACK ".utf8)
            let reached = await child.waitForOutput(timeout: .seconds(120)) { data in
                var count = 0
                var range = data.startIndex..<data.endIndex
                while count < minimumAcks, let found = data.range(of: ack, in: range) {
                    count += 1
                    range = found.upperBound..<data.endIndex
                }
                return count >= minimumAcks
            }
            #expect(reached, "the child acknowledged fewer than \(minimumAcks) starts within 120 s")
            // The kill lands at a random point of the run: a delay, not a synchronization.
            try await Task.sleep(for: killAfter)
            child.kill()
        }
        let (exit, data) = try await child.finish(timeout: .seconds(300))
        var run = ChildRun()
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("ACK ") { run.acknowledged.append(String(line.dropFirst(4))) }
            if line.hasPrefix("RECOVERED ") { run.recovered = Int(line.dropFirst(10)) ?? 0 }
            if line == "DONE" { run.finished = true }
        }
        if killAfter == nil {
            #expect(!exit.killedBySignal && exit.status == 0, "the recovering child exited \(exit)")
        } else {
            #expect(exit.killedBySignal, "the child exited \(exit) before it was killed")
        }
        return run
    }

    /// (workflow, step) pairs with a committed StepCompleted.
    static func completedSteps(_ path: String) throws -> Set<String> {
        let connection = try SQLiteConnection(path: path)
        let rows = try connection.query("SELECT workflow_id, payload FROM events WHERE type = 'StepCompleted'") { row in
            (row.text(0), row.blob(1))
        }
        var result: Set<String> = []
        for (workflow, payload) in rows {
            if case .stepCompleted(let step, _, _) = try EventCodec.decode(payload) { result.insert("\(workflow)/\(step)") }
        }
        return result
    }

    @Test func killedChildrenLoseNothingAndRepeatNoCompletedStep() async throws {
        guard let binary = Self.childBinary() else {
            Issue.record("baton-bench was not built next to the tests; run `swift build` first")
            return
        }
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let log = temp.directory.appendingPathComponent("executions.log").path
        var acknowledged: [String] = []
        var recovered = 0
        var completedAtKill: [Set<String>] = []
        let delays: [Duration] = [.milliseconds(300), .milliseconds(50), .milliseconds(500), .milliseconds(150), .milliseconds(400)]
        for (generation, delay) in delays.enumerated() {
            let run = try await Self.runChild(
                binary, arguments: ["crash-child", "--db", temp.path, "--log", log, "--generation", "\(generation)"],
                killAfter: delay)
            #expect(!run.finished)
            acknowledged += run.acknowledged
            recovered += run.recovered
            completedAtKill.append(try Self.completedSteps(temp.path))
        }
        let final = try await Self.runChild(
            binary, arguments: ["crash-child", "--db", temp.path, "--log", log, "--generation", "\(delays.count)", "--recover-only"],
            killAfter: nil)
        #expect(final.finished)
        recovered += final.recovered
        #expect(acknowledged.count > 50, "too few workflows were started to test anything")
        #expect(recovered > 0, "no kill hit an open workflow")

        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let (definition, _) = try await DefinitionRegistry(store: store).definition(named: "crash_test", version: 1)

        // Every acknowledged start completed, with a clean history that folds to the snapshot.
        for id in acknowledged {
            guard let stored = try await store.loadWorkflow(id) else {
                Issue.record("acknowledged workflow \(id) is missing")
                continue
            }
            #expect(stored.state.status == .completed, "\(id)")
            let history = try await store.history(id, afterEventID: 0, limit: .max)
            #expect(history.map(\.id) == Array(1...Int64(history.count)), "\(id): event ids not contiguous")
            #expect(history.first?.kind.typeName == "WorkflowStarted")
            #expect(history.last?.kind.typeName == "WorkflowCompleted")
            for step in ["a", "b", "c", "d"] {
                #expect(history.filter { $0.kind.typeName == "StepCompleted" && $0.kind.step == step }.count == 1, "\(id)/\(step)")
                #expect(history.filter { $0.kind.typeName == "StepScheduled" && $0.kind.step == step }.count == 1, "\(id)/\(step)")
            }
            var folded = WorkflowState(workflowID: id)
            for event in history { folded.apply(event, definition: definition) }
            #expect(folded == stored.state, "\(id): fold(history) != snapshot")
        }
        #expect(try store.storedTaskKeys().isEmpty)
        #expect(try await store.loadOpenWorkflows().isEmpty)

        // No step whose completion was committed before kill g ran again in a later generation.
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

