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
        var line: [UInt8] = []
        line.reserveCapacity(384)
        line.append(contentsOf: #"{"timestamp":""#.utf8)
        Self.appendTimestamp(to: &line)
        line.append(contentsOf: #"","level":""#.utf8)
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(contentsOf: #"","logger":"#.utf8)
        Self.appendString(label, to: &line)
        line.append(contentsOf: #","message":"#.utf8)
        Self.appendString(event.message.description, to: &line)
        var fields = metadata
        if let explicit = event.metadata {
            if fields.isEmpty { fields = explicit } else { fields.merge(explicit) { _, new in new } }
        }
        if let error = event.error { fields["error"] = .string(String(describing: error)) }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !Self.reserved.contains(key) {
            line.append(0x2C)
            Self.appendString(key, to: &line)
            line.append(0x3A)
            Self.appendValue(value, to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        sink.write(line)
    }

    /// Keys the line itself uses; metadata cannot overwrite them.
    static let reserved: Set<String> = ["timestamp", "level", "logger", "message"]

    /// Now as RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date = Date()) -> String {
        var bytes: [UInt8] = []
        appendTimestamp(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `date` as RFC 3339 in UTC with milliseconds, digit by digit.
    static func appendTimestamp(_ date: Date = Date(), to bytes: inout [UInt8]) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func put(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            for _ in 0..<digits {
                bytes.append(UInt8(truncatingIfNeeded: 0x30 + (value / divisor) % 10))
                divisor /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, digits: 4)
        bytes.append(0x2D)
        put(Int(parts.tm_mon) + 1, digits: 2)
        bytes.append(0x2D)
        put(Int(parts.tm_mday), digits: 2)
        bytes.append(0x54)
        put(Int(parts.tm_hour), digits: 2)
        bytes.append(0x3A)
        put(Int(parts.tm_min), digits: 2)
        bytes.append(0x3A)
        put(Int(parts.tm_sec), digits: 2)
        bytes.append(0x2E)
        put(Int(milliseconds % 1000), digits: 3)
        bytes.append(0x5A)
    }

    static func appendValue(_ value: Logger.Metadata.Value, to bytes: inout [UInt8]) {
        switch value {
        case .string(let string):
            appendString(string, to: &bytes)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: bytes.append(contentsOf: String(number).utf8)
            case let number as Int64: bytes.append(contentsOf: String(number).utf8)
            case let number as Double where number.isFinite: bytes.append(contentsOf: String(number).utf8)
            case let flag as Bool: bytes.append(contentsOf: (flag ? "true" : "false").utf8)
            default: appendString(convertible.description, to: &bytes)
            }
        case .dictionary(let dictionary):
            bytes.append(0x7B)
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(0x2C) }
                appendString(key, to: &bytes)
                bytes.append(0x3A)
                appendValue(element, to: &bytes)
            }
            bytes.append(0x7D)
        case .array(let array):
            bytes.append(0x5B)
            for (index, element) in array.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                appendValue(element, to: &bytes)
            }
            bytes.append(0x5D)
        }
    }

    /// Appends `string` as a JSON string: quotes, backslashes and control characters escaped (and
    /// U+2028/U+2029, which some JSON readers take for line ends).
    static func appendString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(0x22)
        let start = bytes.count
        bytes.append(contentsOf: string.utf8)
        // Most strings (ids, names, messages) need no escape: copied whole. 0xE2 may start U+2028/9.
        if bytes[start...].contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }) {
            bytes.removeSubrange(start...)
            appendEscaped(string, to: &bytes)
        }
        bytes.append(0x22)
    }

    private static func appendEscaped(_ string: String, to bytes: inout [UInt8]) {
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": bytes.append(contentsOf: #"\""#.utf8)
            case "\\": bytes.append(contentsOf: #"\\"#.utf8)
            case "\n": bytes.append(contentsOf: #"\n"#.utf8)
            case "\r": bytes.append(contentsOf: #"\r"#.utf8)
            case "\t": bytes.append(contentsOf: #"\t"#.utf8)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    bytes.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                } else {
                    bytes.append(contentsOf: String(scalar).utf8)
                }
            }
        }
    }
}

/// Where ``JSONLogHandler`` writes: whole lines, one `write(2)` each under a lock, so lines of
/// concurrent loggers never interleave; inside ``holdingWrites(_:)`` lines are collected and written
/// together when it returns (the observation thread writes a tick's lines with one call).
public final class JSONLogSink: Sendable {
    private let descriptor: Int32
    private let state = Mutex(State())

    private struct State {
        /// How many ``holdingWrites(_:)`` calls are running.
        var holders = 0
        /// Lines held for them.
        var held: [UInt8] = []
    }

    /// Lines held at most before they are written anyway.
    static let maxHeldBytes = 256 * 1024

    /// A sink writing to file descriptor `descriptor`.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Standard error.
    public static let standardError = JSONLogSink(descriptor: 2)

    /// Runs `body`, writing the lines logged meanwhile (by any thread) when it returns, in order.
    public func holdingWrites<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.holders += 1 }
        defer {
            state.withLock { state in
                state.holders -= 1
                if state.holders == 0, !state.held.isEmpty {
                    writeAll(state.held)
                    state.held.removeAll(keepingCapacity: state.held.capacity <= Self.maxHeldBytes)
                }
            }
        }
        return try body()
    }

    func write(_ line: [UInt8]) {
        state.withLock { state in
            if state.holders > 0 {
                state.held.append(contentsOf: line)
                if state.held.count >= Self.maxHeldBytes {
                    writeAll(state.held)
                    state.held.removeAll(keepingCapacity: true)
                }
                return
            }
            writeAll(line)
        }
    }

    /// Writes every byte of `bytes` (retrying interrupted writes); called under the lock.
    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
