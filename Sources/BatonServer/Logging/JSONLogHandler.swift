import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line to standard error:
/// `{"timestamp":"2026-12-07T19:40:01.123Z","level":"info","logger":"baton","message":"workflow closed",
/// "workflow_id":"wf-1","status":"completed","duration_ms":412}` — the timestamp in RFC 3339 (UTC),
/// then the message and every metadata field at the top level (a metadata value that is a number is
/// written as a JSON number; nested dictionaries and arrays as objects and arrays).
public struct JSONLogHandler: LogHandler {
    /// The logger's label, written as `logger`.
    public let label: String
    /// The lowest level written.
    public var logLevel: Logger.Level
    /// Metadata added to every line of this logger.
    public var metadata: Logger.Metadata = [:]

    private let sink: JSONLogSink

    /// A handler for `label` writing to `sink` (standard error by default).
    public init(label: String, level: Logger.Level = .info, sink: JSONLogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    /// Reads or sets one metadata field of this logger.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one event as a JSON line (an attached error goes in `error`).
    public func log(event: LogEvent) {
        var text = "{\"timestamp\":\"" + Self.timestamp() + "\",\"level\":\"" + event.level.rawValue + "\",\"logger\":"
        Self.appendString(label, to: &text)
        text += ",\"message\":"
        Self.appendString(event.message.description, to: &text)
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }
        if let error = event.error { fields["error"] = .string(String(describing: error)) }
        for key in fields.keys.sorted() where !Self.reserved.contains(key) {
            text += ","
            Self.appendString(key, to: &text)
            text += ":"
            Self.appendValue(fields[key]!, to: &text)
        }
        text += "}\n"
        sink.write(text)
    }

    /// Keys the line itself uses; metadata cannot overwrite them.
    static let reserved: Set<String> = ["timestamp", "level", "logger", "message"]

    /// Now as RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date = Date()) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(milliseconds % 1000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }

    static func appendValue(_ value: Logger.Metadata.Value, to text: inout String) {
        switch value {
        case .string(let string):
            appendString(string, to: &text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: text += String(number)
            case let number as Int64: text += String(number)
            case let number as Double where number.isFinite: text += String(number)
            case let flag as Bool: text += flag ? "true" : "false"
            default: appendString(convertible.description, to: &text)
            }
        case .dictionary(let dictionary):
            text += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                appendString(key, to: &text)
                text += ":"
                appendValue(dictionary[key]!, to: &text)
            }
            text += "}"
        case .array(let array):
            text += "["
            for (index, element) in array.enumerated() {
                if index > 0 { text += "," }
                appendValue(element, to: &text)
            }
            text += "]"
        }
    }

    /// `string` as a JSON string: quotes, backslashes and control characters escaped.
    static func appendString(_ string: String, to text: inout String) {
        text += "\""
        // Most strings (ids, names, messages) need no escape: copied whole. 0xE2 may start U+2028/9.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }) {
            text += string
            text += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}

/// Where ``JSONLogHandler`` writes: whole lines, one `write(2)` each under a lock, so lines of
/// concurrent loggers never interleave.
public final class JSONLogSink: Sendable {
    private let descriptor: Int32
    private let lock = Mutex(())

    /// A sink writing to file descriptor `descriptor`.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Standard error.
    public static let standardError = JSONLogSink(descriptor: 2)

    func write(_ line: String) {
        let bytes = Array(line.utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
