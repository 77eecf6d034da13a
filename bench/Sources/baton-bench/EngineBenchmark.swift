import BatonCore
import BatonEngine
import BatonStore
import Foundation
#if canImport(BatonServer)
import BatonServer
import Logging
import NIOPosix
#endif

/// N three-step workflows (A → B, A → C, `builtin.echo`) against a temporary SQLite file.
struct EngineBenchmark {
    static let definition = """
        name: bench_three_step
        steps:
          a: { activity: builtin.echo, input: { n: "${input.n}" } }
          b: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
          c: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
        output: { b: "${steps.b.output.from_a}", c: "${steps.c.output.from_a}" }
        """

    let workflows: Int
    let concurrency: Int
    let durability: Durability
    let shards: Int
    let path: String?
    /// `--observe`: attach the server's logs (json at info, on stderr), metrics and, with
    /// `--otlp-endpoint`, trace export, as `baton server` does.
    let observe: Bool
    let otlpEndpoint: String

    init(_ arguments: Arguments) {
        workflows = arguments.int("workflows", default: 20_000)
        concurrency = arguments.int("concurrency", default: 1_000)
        durability = Durability(rawValue: arguments.string("durability", default: "full")) ?? .full
        shards = arguments.int("shards", default: ProcessInfo.processInfo.activeProcessorCount)
        path = arguments.string("db", default: "").isEmpty ? nil : arguments.string("db", default: "")
        observe = arguments.string("observe", default: "off") == "on"
        otlpEndpoint = arguments.string("otlp-endpoint", default: "")
    }

    func run() async {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-bench-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = path ?? directory.appendingPathComponent("bench.sqlite").path
        do {
            let clock = SystemClock(epochMilliseconds: epochMilliseconds())
            let runtime = try await WorkflowRuntime.open(path: databasePath, durability: durability, clock: clock, shardCount: shards)
            let observing = try await attachObservability(runtime)
            _ = try await runtime.register(source: Self.definition)
            // Warm-up: code paths, statement cache, page cache.
            for index in 0..<200 {
                let id = try await runtime.startWorkflow("bench_three_step", input: ["n": .number(Double(index))]).id
                _ = try await runtime.awaitCompletion(id)
            }

            let started = ContinuousClock.now
            let cpuBefore = processCPUSeconds()
            let latencies = try await measure(runtime)
            let elapsed = ContinuousClock.now - started
            let cpu = processCPUSeconds() - cpuBefore
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

            let store = runtime.store as! SQLiteWorkflowStore
            let events = try store.read { connection throws(BatonError) in
                try connection.query("SELECT count(*) FROM events") { $0.integer(0) }
            }.first ?? 0
            let perWorkflow = Double(events) / Double(workflows + 200)
            let statistics = store.writerStatistics
            let failures = runtime.deliveryFailureCount
            let template = try store.read { connection throws(BatonError) in
                try connection.query("SELECT id FROM workflows WHERE status = 'COMPLETED' ORDER BY started_at DESC LIMIT 1") { $0.text(0) }
            }.first ?? ""
            await runtime.close()
            await observing?()
            // The same rows, batches and durability without the engine: what storage alone allows.
            let reopened = try SQLiteWorkflowStore(path: databasePath, durability: durability)
            let ceiling = try StorageCeiling(
                workflows: workflows,
                changesPerWorkflow: Int((Double(statistics.jobs) / Double(workflows + 200)).rounded()),
                changesPerTransaction: Int((Double(statistics.jobs) / Double(max(1, statistics.batches))).rounded()),
                concurrency: concurrency, durability: durability
            ).run(template: template, from: reopened, directory: directory)
            reopened.close()

            let sorted = latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            let rate = Double(workflows) / seconds
            print("workflows:      \(workflows) (concurrency \(concurrency), shards \(shards), durability \(durability.rawValue))")
            print(String(format: "elapsed:        %.3f s", seconds))
            print(String(format: "workflows/s:    %.0f", rate))
            // Less sensitive to the machine's speed drifting than the rate: what each run cost, on every thread.
            print(String(format: "cpu:            %.0f µs per workflow (user + system, all threads)", cpu * 1e6 / Double(workflows)))
            print(String(format: "events/s:       %.0f (%.1f events per workflow)", rate * perWorkflow, perWorkflow))
            print(String(format: "latency p50:    %.2f ms start→completed", percentile(0.50)))
            print(String(format: "latency p99:    %.2f ms", percentile(0.99)))
            print("commits:        \(statistics.jobs) changes in \(statistics.batches) transactions (\(String(format: "%.1f", Double(statistics.jobs) / Double(max(1, statistics.batches)))) per transaction)")
            print("lost results:   \(failures)")
            print("peak RSS:       \(peakRSSKiB() / 1024) MiB")
            print(String(format: "storage ceiling: %.0f workflows/s (same rows, batches and durability, no engine)", ceiling))
            print("engine: \(Int(rate)) workflows/s, storage ceiling \(Int(ceiling)) workflows/s, ratio \(String(format: "%.2f", rate / ceiling))")
        } catch {
            complain("benchmark failed: \(error)")
            exit(1)
        }
    }

    /// Starts `workflows` runs keeping `concurrency` in flight; returns each start→completed latency in ms.
    private func measure(_ runtime: WorkflowRuntime) async throws -> [Double] {
        try await withThrowingTaskGroup(of: Double.self) { group in
            var latencies: [Double] = []
            latencies.reserveCapacity(workflows)
            var next = 0
            func launch() {
                let index = next
                next += 1
                group.addTask {
                    let begin = ContinuousClock.now
                    let id = try await runtime.startWorkflow("bench_three_step", input: ["n": .number(Double(index))]).id
                    let result = try await runtime.awaitCompletion(id)
                    guard result.status == .completed else { throw BatonError(.internal, "\(id) ended \(result.status)") }
                    let duration = ContinuousClock.now - begin
                    return Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
                }
            }
            while next < min(concurrency, workflows) { launch() }
            while let latency = try await group.next() {
                latencies.append(latency)
                if next < workflows { launch() }
            }
            return latencies
        }
    }
}

extension EngineBenchmark {
    /// With `--observe on`, what `baton server` attaches to its runtime; returns how to stop it.
    func attachObservability(_ runtime: WorkflowRuntime) async throws -> (@Sendable () async -> Void)? {
        guard observe else { return nil }
        #if canImport(BatonServer)
        let handler = JSONLogHandler(label: "baton", level: .info)  // standard error, as the server
        let logger = Logger(label: "baton", factory: { _ in handler })
        let endpoint = try otlpEndpoint.isEmpty ? nil : OTLPEndpoint(parsing: otlpEndpoint, appendingSignalPath: true)
        let observability = await ServerObservability(runtime: runtime, otlpEndpoint: endpoint, logger: logger,
                                                      group: MultiThreadedEventLoopGroup.singleton)
        return { await observability.shutdown() }
        #else
        fatalError("--observe needs the full build (not BATON_ENGINE_ONLY)")
        #endif
    }
}
