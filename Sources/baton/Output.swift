import Foundation
import SwiftProtobuf

/// Writes the CLI's output: plain lines, protobuf JSON documents, and the one-line error.
/// Writes go straight to the file descriptors, so piped output is never held in a buffer.
enum Output {
    /// JSON options for `--json`: proto3 JSON mapping with deterministic map order.
    static let jsonOptions: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

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

    /// Writes `message` as one line of protobuf JSON.
    static func json(_ message: some SwiftProtobuf.Message) throws {
        line(try message.jsonString(options: jsonOptions))
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
