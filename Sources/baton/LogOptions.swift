import ArgumentParser
import BatonServer
import Foundation
import Logging

/// `--log-format` and `--log-level` of `baton server` and `baton dev`.
struct LogOptions: ParsableArguments {
    /// How log lines are written.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// `2026-12-07T19:40:01+0000 info baton: … [BatonServer] message`.
        case text
        /// One JSON object per line (see `JSONLogHandler`).
        case json
    }

    @Option(name: .long, help: ArgumentHelp(
        "Log lines as text or json, on stderr (default: $BATON_LOG_FORMAT, else text on a terminal, json otherwise).",
        valueName: "format"))
    var logFormat: Format?

    @Option(name: .long, help: ArgumentHelp(
        "The lowest level logged: trace, debug, info, notice, warning, error, critical (default: $BATON_LOG_LEVEL, else info).",
        valueName: "level"))
    var logLevel: String?

    func validate() throws {
        _ = try resolvedFormat()
        _ = try resolvedLevel()
    }

    /// The format: the option, `BATON_LOG_FORMAT`, else text when stderr is a terminal and json otherwise.
    func resolvedFormat() throws -> Format {
        if let logFormat { return logFormat }
        if let text = ProcessInfo.processInfo.environment["BATON_LOG_FORMAT"], !text.isEmpty {
            guard let format = Format(rawValue: text) else {
                throw ValidationError("BATON_LOG_FORMAT must be text or json, got '\(text)'")
            }
            return format
        }
        return isatty(2) == 1 ? .text : .json
    }

    /// The level: the option, `BATON_LOG_LEVEL`, else info.
    func resolvedLevel() throws -> Logger.Level {
        let source = logLevel != nil ? "--log-level" : "BATON_LOG_LEVEL"
        guard let text = logLevel ?? ProcessInfo.processInfo.environment["BATON_LOG_LEVEL"].flatMap({ $0.isEmpty ? nil : $0 })
        else { return .info }
        guard let level = Logger.Level(rawValue: text) else {
            throw ValidationError("\(source) must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return level
    }

    /// Sets up swift-log for the process (once) and returns the server's logger.
    func bootstrap() throws -> Logger {
        let format = try resolvedFormat()
        let level = try resolvedLevel()
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                return JSONLogHandler(label: label, level: level)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "baton")
        logger.logLevel = level
        return logger
    }
}
