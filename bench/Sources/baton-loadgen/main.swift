import BatonClient
import BatonProto
import Foundation
import NIOPosix

/// Drives a running Baton server through its public API: registers a three-step definition, then runs
/// N workflows with C in flight and prints workflows/s and latency. Modes:
/// - `api` (default): A → B, A → C as builtin.echo, each run started with StartWorkflow and observed to
///   completion with StreamProgress;
/// - `worker`: a → b → c on task queue `bench`, executed by external workers (`baton-bench-worker`),
///   each run started and awaited with AwaitWorkflow;
/// - `inprocess`: the `worker` workload with builtin.echo activities in the server (same calls);
/// - `open`: starts N runs `open-0` … `open-N-1` that wait for signal `go` (they stay open);
/// - `signal`: signals each of those runs and awaits its completion (AwaitWorkflow).
///
///     baton-loadgen --address 127.0.0.1:7400 --workflows 20000 --concurrency 200 --connections 4 [--mode worker]
@main
struct LoadGenerator {
    static let definition = """
        name: bench_three
        steps:
          a: { activity: builtin.echo, input: { n: "${input.n}" } }
          b: { activity: builtin.echo, depends_on: [a], input: { x: "${steps.a.output.n}" } }
          c: { activity: builtin.echo, depends_on: [a], input: { x: "${steps.a.output.n}" } }
        output: { b: "${steps.b.output.x}", c: "${steps.c.output.x}" }
        """

    /// Three sequential steps; `ACTIVITY` is replaced by the activity names (external or builtin.echo).
    static func sequential(name: String, activities: [String]) -> String {
        """
        name: \(name)
        defaults: { task_queue: bench }
        steps:
          a: { activity: \(activities[0]), input: { n: "${input.n}" } }
          b: { activity: \(activities[1]), depends_on: [a], input: { n: "${steps.a.output.n}" } }
          c: { activity: \(activities[2]), depends_on: [b], input: { n: "${steps.b.output.n}" } }
        output: { n: "${steps.c.output.n}" }
        """
    }

    static func main() async throws {
        var options = ["--address": "127.0.0.1:7400", "--workflows": "20000", "--concurrency": "200",
                       "--connections": "4", "--mode": "api"]
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let name = arguments.next() {
            guard options[name] != nil, let value = arguments.next() else {
                complain("baton-loadgen: unknown or incomplete option \(name)")
                exit(2)
            }
            options[name] = value
        }
        let parts = options["--address"]!.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), let total = Int(options["--workflows"]!),
              let concurrency = Int(options["--concurrency"]!), let connections = Int(options["--connections"]!),
              total > 0, concurrency > 0, connections > 0
        else {
            complain("baton-loadgen: bad options \(options)")
            exit(2)
        }
        let mode = options["--mode"]!
        let name: String
        switch mode {
        case "api": name = "bench_three"
        case "worker": name = "bench_worker"
        case "inprocess": name = "bench_inprocess"
        case "open", "signal": name = "bench_open"
        default:
            complain("baton-loadgen: --mode must be api, worker or inprocess, got \(mode)")
            exit(2)
        }
        let clients = (0..<connections).map { _ in BatonClient(host: String(parts[0]), port: port) }
        _ = try await clients[0].registerDefinition(source: definition)
        _ = try await clients[0].registerDefinition(source: sequential(name: "bench_worker", activities: ["a", "b", "c"]))
        _ = try await clients[0].registerDefinition(source: sequential(
            name: "bench_inprocess", activities: ["builtin.echo", "builtin.echo", "builtin.echo"]))
        _ = try await clients[0].registerDefinition(source: """
            name: bench_open
            steps:
              wait: { wait_for_signal: { name: go } }
              done: { activity: builtin.echo, depends_on: [wait], input: { ok: "${steps.wait.signal.ok}" } }
            output: { ok: "${steps.done.output.ok}" }
            """)

        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var mine: [Duration] = []
                    let client = clients[worker % connections]
                    var index = worker
                    while index < total {
                        let begin = ContinuousClock.now
                        if mode == "open" {
                            let run = try await client.startWorkflow(.with {
                                $0.definition = name
                                $0.workflowID = "open-\(index)"
                            })
                            guard run.started else {
                                throw NSError(domain: "baton-loadgen", code: 1,
                                              userInfo: [NSLocalizedDescriptionKey: "open-\(index) existed already"])
                            }
                            mine.append(ContinuousClock.now - begin)
                            index += concurrency
                            continue
                        }
                        if mode == "signal" {
                            var request = Baton_V1_SignalRequest()
                            request.workflowID = "open-\(index)"
                            request.name = "go"
                            request.payload = .init(structValue: .init(fields: ["ok": .init(boolValue: true)]))
                            _ = try await client.signal(request)
                            let closed = try await client.awaitWorkflow("open-\(index)", timeout: .seconds(120))
                            guard closed.workflow.info.status == .completed else {
                                throw NSError(domain: "baton-loadgen", code: 1, userInfo: [
                                    NSLocalizedDescriptionKey: "open-\(index) ended \(closed.workflow.info.status)"])
                            }
                            mine.append(ContinuousClock.now - begin)
                            index += concurrency
                            continue
                        }
                        let run = try await client.startWorkflow(.with {
                            $0.definition = name
                            $0.input = .init(structValue: .init(fields: ["n": .init(numberValue: Double(index))]))
                        })
                        var status = Baton_V1_WorkflowStatus.running
                        if mode == "api" {
                            for try await progress in client.streamProgress(run.workflowID) { status = progress.status }
                        } else {
                            let closed = try await client.awaitWorkflow(run.workflowID, runID: run.runID, timeout: .seconds(120))
                            status = closed.workflow.info.status
                        }
                        guard status == .completed else {
                            throw NSError(domain: "baton-loadgen", code: 1,
                                          userInfo: [NSLocalizedDescriptionKey: "\(run.workflowID) ended \(status)"])
                        }
                        mine.append(ContinuousClock.now - begin)
                        index += concurrency
                    }
                    return mine
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            return Double(value.components.seconds) * 1000 + Double(value.components.attoseconds) / 1e15
        }
        let rate = Double(sorted.count) / seconds
        print(String(format: "workflows: %d in %.2fs, concurrency %d over %d connections", sorted.count, seconds,
                     concurrency, connections))
        let observed = mode == "api" ? "StreamProgress" : mode == "open" ? "StartWorkflow" : "AwaitWorkflow"
        print(String(format: "latency start→completed (%@): p50 %.1f ms, p99 %.1f ms", observed, percentile(0.5),
                     percentile(0.99)))
        print(String(format: "%@: %.0f workflows/s", mode, rate))
        for client in clients { await client.close() }
    }
}

/// Writes one diagnostic line to stderr with `write(2)`, retrying interrupted and partial writes.
func complain(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0, errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
    }
}
