import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// One run of a large definition — a chain `s0 → s1 → …` or a flat set of independent steps, every
/// step `builtin.echo` — against a temporary SQLite file: time, peak RSS and bytes written.
struct LargeBenchmark {
    let steps: Int
    let shape: String

    init(_ arguments: Arguments) {
        steps = arguments.int("steps", default: 10_000)
        shape = arguments.string("shape", default: "chain")
    }

    /// The definition's YAML.
    static func source(steps: Int, chain: Bool) -> String {
        var text = "name: large\nsteps:\n"
        for index in 0..<steps {
            if chain, index > 0 {
                text += "  s\(index): { activity: builtin.echo, depends_on: [s\(index - 1)], input: { i: \(index) } }\n"
            } else {
                text += "  s\(index): { activity: builtin.echo, input: { i: \(index) } }\n"
            }
        }
        return text
    }

    func run() async {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-large-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("large.sqlite").path
        do {
            let clock = SystemClock(epochMilliseconds: epochMilliseconds())
            let runtime = try await WorkflowRuntime.open(path: path, durability: .full, clock: clock)
            let registerStart = ContinuousClock.now
            _ = try await runtime.register(source: Self.source(steps: steps, chain: shape == "chain"))
            let registered = ContinuousClock.now - registerStart
            let written0 = Self.bytesWritten()
            let started = ContinuousClock.now
            let id = try await runtime.startWorkflow("large").id
            let result = try await runtime.awaitCompletion(id)
            let elapsed = ContinuousClock.now - started
            await runtime.close()
            let written = Self.bytesWritten() - written0
            let events = result.state.lastEventID
            print("large: shape=\(shape) steps=\(steps) status=\(result.status.rawValue) events=\(events)")
            print("large: register \(Self.format(registered)), run \(Self.format(elapsed)), "
                  + "\(String(format: "%.0f", Double(steps) / Self.seconds(elapsed))) steps/s")
            print("large: peak RSS \(Self.peakRSSMiB()) MiB, bytes written \(written / (1 << 20)) MiB "
                  + "(\(written / max(1, Int(events))) bytes per event)")
        } catch {
            complain("large benchmark failed: \(error)")
            exit(1)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ duration: Duration) -> String { String(format: "%.2f s", seconds(duration)) }

    /// `VmHWM` of this process (peak resident set), in MiB.
    static func peakRSSMiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    /// Bytes this process caused to be written to storage (`write_bytes` of /proc/self/io).
    static func bytesWritten() -> Int {
        let io = (try? String(contentsOfFile: "/proc/self/io", encoding: .utf8)) ?? ""
        let line = io.split(separator: "\n").first { $0.hasPrefix("write_bytes:") } ?? ""
        return Int(line.split(separator: " ").last ?? "") ?? 0
    }
}
