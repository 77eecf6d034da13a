import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// The crash test's child process: starts workflows against a database file, printing `ACK <id>`
/// once each start is committed, and logs every activity execution to a file, until it is killed.
/// Each run first recovers what the previous (killed) run left open.
struct CrashChild {
    static let definition = """
        name: crash_test
        steps:
          a: { activity: crash.work, input: { n: "${input.n}" } }
          b: { activity: crash.work, depends_on: [a] }
          c: { activity: crash.work, depends_on: [a] }
          d: { activity: crash.work, depends_on: [b, c] }
        output: { done: true }
        """

    let database: String
    let log: String
    let generation: Int
    let count: Int
    let recoverOnly: Bool

    init(_ arguments: Arguments) {
        database = arguments.require("db")
        log = arguments.require("log")
        generation = arguments.int("generation", default: 0)
        count = arguments.int("count", default: 1_000_000)
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
        activities.register("crash.work") { context in
            let line = "\(generation) \(context.idempotencyKey)\n"
            _ = line.withCString { write(descriptor, $0, strlen($0)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...4)))
            return ["key": .string(context.idempotencyKey)]
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
                            while index < count {
                                let id = "g\(generation)-w\(index)"
                                _ = try await runtime.startWorkflow("crash_test", workflowID: id, input: ["n": .number(Double(index))]).id
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
            complain("crash-child failed: \(error)")
            exit(1)
        }
    }
}

/// Writes one line to standard output immediately (unbuffered), so a parent sees it even if we are killed next.
func emit(_ line: String) {
    writeLine(STDOUT_FILENO, line)
}

/// Writes one line to stderr (diagnostics).
func complain(_ line: String) {
    writeLine(STDERR_FILENO, line)
}

/// Writes `line` and a newline with `write(2)`, retrying interrupted and partial writes (Foundation's
/// FileHandle traps on them); a reader that went away is ignored.
private func writeLine(_ descriptor: Int32, _ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0, errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
    }
}
