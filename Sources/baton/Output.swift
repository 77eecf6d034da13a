import BatonRPC
import Synchronization
import Foundation
import SwiftProtobuf

/// Writes the CLI's output: plain lines, protobuf JSON documents, and the one-line error.
/// Writes go straight to the file descriptors, so piped output is never held in a buffer.
enum Output {
    /// JSON options for `--json`: proto3 JSON mapping with deterministic map order.
    /// Writes `text` and a newline to stdout.
    static func line(_ text: String = "") {
        write(text + "\n")
    }

    /// Writes `text` as is to stdout. When the reader went away (`baton history | head`), exits 0.
    static func write(_ text: String) {
        if !writeAll(STDOUT_FILENO, text) { Foundation.exit(ExitStatus.success) }
    }

    /// Writes `text` and a newline to stderr.
    static func errorLine(_ text: String) {
        _ = writeAll(STDERR_FILENO, text + "\n")
    }

    /// Writes `text` and a newline to stdout for a long-running command (the server): a reader that
    /// went away is ignored, never a reason to exit or trap.
    static func serviceLine(_ text: String) {
        _ = writeAll(STDOUT_FILENO, text + "\n")
    }

    /// Reads stdin to its end with `read(2)`, retrying interrupted calls; nil on a read error.
    static func readStandardInput() -> Data? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return data }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    /// Whether ``json(_:)`` indents (`-o json`) instead of writing one line (`-o jsonl`, `--json`).
    static let indentJSON = Atomic<Bool>(false)

    /// Writes `message` in protobuf's JSON mapping with every object's keys sorted (also inside
    /// `google.protobuf.Struct` values, whose order the library leaves to a hash), so the same answer
    /// prints the same text in every run: one line, or indented with `-o json`.
    static func json(_ message: some SwiftProtobuf.Message) throws {
        let text = try ProtoJSON.string(message)
        guard let value = try? Google_Protobuf_Value(jsonString: text) else { return line(text) }
        line(JSONText.render(value, indent: indentJSON.load(ordering: .relaxed) ? "  " : nil))
    }

    /// The JSON text of a `google.protobuf.Value`, compact (`{"a":1}`), keys sorted, whole numbers without `.0`.
    static func compactJSON(_ value: Google_Protobuf_Value) -> String {
        JSONText.render(value, indent: nil)
    }

    /// The JSON text of a `google.protobuf.Value`, indented with sorted keys, for reading.
    static func prettyJSON(_ value: Google_Protobuf_Value) -> String {
        JSONText.render(value, indent: "  ")
    }

    /// Parses a JSON option value (`--input`, `--payload`); `@PATH` reads the JSON from a file.
    static func parseJSONOption(_ text: String, option: String) throws -> Google_Protobuf_Value {
        var json = text
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path), let content = String(data: data, encoding: .utf8)
            else { throw CLIFailure.usage("\(option): cannot read file '\(path)'") }
            json = content
        }
        do {
            return try Google_Protobuf_Value(jsonString: json)
        } catch {
            let shown = json.count > 60 ? String(json.prefix(57)) + "..." : json
            throw CLIFailure.usage("\(option): not valid JSON: \(shown.replacingOccurrences(of: "\n", with: " ")) "
                                   + "(quote strings: '\"text\"')")
        }
    }
}

/// Writes every byte of `text` to `descriptor`; false when the reader closed the pipe.
private func writeAll(_ descriptor: Int32, _ text: String) -> Bool {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in
            write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written < 0 {
            if errno == EINTR { continue }
            return errno != EPIPE
        }
        offset += written
    }
    return true
}
