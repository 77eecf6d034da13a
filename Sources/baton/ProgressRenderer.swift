import BatonProto
import Foundation

/// Shows a run's progress: a bar redrawn in place on a terminal, one line per change otherwise,
/// or one JSON document per message with `--json`.
final class ProgressRenderer {
    /// How progress is shown.
    enum Mode {
        /// A one-line bar redrawn in place (stdout is a terminal).
        case bar
        /// One line per change, e.g. `42% phase=research running=a,b eta=12s`.
        case lines
        /// One protobuf JSON document per message.
        case json
        /// Nothing (`baton execute`).
        case quiet
    }

    let mode: Mode
    private var lastLine = ""
    private var barShown = false

    /// Chooses the mode: JSON when asked, a bar when stdout is a terminal, lines otherwise.
    init(json: Bool, quiet: Bool = false) {
        if quiet {
            mode = .quiet
        } else if json {
            mode = .json
        } else if isatty(STDOUT_FILENO) != 0, ProcessInfo.processInfo.environment["TERM"] != "dumb" {
            mode = .bar
        } else {
            mode = .lines
        }
    }

    /// Shows one progress message.
    func show(_ progress: Baton_V1_Progress) throws {
        switch mode {
        case .quiet:
            return
        case .json:
            try Output.json(progress)
        case .lines:
            let line = Self.line(progress)
            if line != lastLine { Output.line(line) }
            lastLine = line
        case .bar:
            let line = Self.truncate(Self.bar(progress), to: Self.terminalWidth() - 1)
            Output.write("\r\u{1B}[2K" + line)
            barShown = true
        }
    }

    /// Prints a line of its own (a hint, the output) between progress lines; not in JSON mode.
    func note(_ text: String) {
        guard mode != .json, mode != .quiet else { return }
        finish()
        Output.line(text)
    }

    /// Ends the bar's line, so that what follows starts on a fresh one.
    func finish() {
        if barShown { Output.write("\n") }
        barShown = false
    }

    /// `42% phase=research running=a,b eta=12s`, or `100% completed in 3.2s` once closed.
    static func line(_ progress: Baton_V1_Progress) -> String {
        var parts = [percent(progress)]
        if progress.status == .running || progress.status == .unspecified {
            if !progress.currentPhase.isEmpty { parts.append("phase=\(progress.currentPhase)") }
            if !progress.runningSteps.isEmpty { parts.append("running=\(progress.runningSteps.joined(separator: ","))") }
            if progress.hasEta { parts.append("eta=\(Formatting.duration(progress.eta))" + untilSignal(progress)) }
        } else {
            parts.append(Formatting.status(progress.status))
            if progress.hasElapsed { parts.append("in \(Formatting.duration(progress.elapsed))") }
        }
        return parts.joined(separator: " ")
    }

    /// `[████████░░░░░░░░░░░░]  42%  research  running: a, b  ETA 12s`.
    static func bar(_ progress: Baton_V1_Progress) -> String {
        let width = 24
        let filled = max(0, min(width, Int((progress.percentage / 100 * Double(width)).rounded(.down))))
        var text = "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] "
        text += percent(progress).leftPadded(to: 4)
        if progress.status == .running || progress.status == .unspecified {
            if !progress.currentPhase.isEmpty { text += "  \(progress.currentPhase)" }
            if !progress.runningSteps.isEmpty { text += "  running: \(progress.runningSteps.joined(separator: ", "))" }
            if progress.hasEta {
                text += "  ETA \(Formatting.duration(progress.eta))" + untilSignal(progress)
            } else if progress.waitingForSignals.isEmpty {
                text += "  ETA ?"
            } else {
                text += "  waiting for signal " + Set(progress.waitingForSignals.values).sorted().joined(separator: ", ")
            }
        } else {
            text += "  \(Formatting.status(progress.status))"
            if progress.hasElapsed { text += " in \(Formatting.duration(progress.elapsed))" }
        }
        return text
    }

    /// ` until signal approve` when the ETA only runs to a wait for a person.
    private static func untilSignal(_ progress: Baton_V1_Progress) -> String {
        progress.etaUntilSignal.isEmpty ? "" : " until signal \(progress.etaUntilSignal)"
    }

    private static func percent(_ progress: Baton_V1_Progress) -> String {
        "\(Int(max(0, min(100, progress.percentage)).rounded(.down)))%"
    }

    private static func truncate(_ text: String, to width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }
}
