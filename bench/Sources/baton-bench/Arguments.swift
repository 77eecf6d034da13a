import Foundation

/// `command --flag value --switch` parsing for the benchmark tool.
struct Arguments {
    let command: String
    private var values: [String: String] = [:]

    init(_ raw: ArraySlice<String>) {
        command = raw.first ?? ""
        var iterator = raw.dropFirst().makeIterator()
        while let token = iterator.next() {
            guard token.hasPrefix("--") else { continue }
            let name = String(token.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                values[String(name[..<equals])] = String(name[name.index(after: equals)...])
            } else if ["recover-only"].contains(name) {
                values[name] = "true"
            } else {
                values[name] = iterator.next() ?? ""
            }
        }
    }

    func string(_ name: String, default fallback: String) -> String { values[name] ?? fallback }
    func int(_ name: String, default fallback: Int) -> Int { values[name].flatMap(Int.init) ?? fallback }
    func flag(_ name: String) -> Bool { values[name] == "true" }
    func require(_ name: String) -> String {
        guard let value = values[name] else {
            complain("missing --\(name)")
            exit(2)
        }
        return value
    }
}

/// Peak resident set size of this process in KiB (VmHWM), or 0 when unknown.
func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// Wall-clock milliseconds since the epoch (anchors the engine's `SystemClock`).
func epochMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// CPU seconds (user + system) this process has used so far, on every thread.
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
