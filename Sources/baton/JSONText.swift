import Foundation
import SwiftProtobuf

/// Renders `google.protobuf.Value` as JSON for people: keys sorted, whole numbers without `.0`,
/// compact on one line or indented.
enum JSONText {
    /// The value as JSON; `indent` nil for one line, else the indentation unit.
    static func render(_ value: Google_Protobuf_Value, indent: String?) -> String {
        var text = ""
        append(value, indent: indent, level: 0, to: &text)
        return text
    }

    private static func append(_ value: Google_Protobuf_Value, indent: String?, level: Int, to text: inout String) {
        switch value.kind {
        case .nullValue, nil: text += "null"
        case .boolValue(let flag): text += flag ? "true" : "false"
        case .numberValue(let number): text += self.number(number)
        case .stringValue(let string): text += quoted(string)
        case .listValue(let list):
            appendContainer("[", "]", list.values.map { (nil as String?, $0) }, indent: indent, level: level, to: &text)
        case .structValue(let object):
            let entries = object.fields.keys.sorted().map { (Optional($0), object.fields[$0]!) }
            appendContainer("{", "}", entries, indent: indent, level: level, to: &text)
        }
    }

    private static func appendContainer(_ open: String, _ close: String, _ entries: [(String?, Google_Protobuf_Value)],
                                        indent: String?, level: Int, to text: inout String) {
        text += open
        guard !entries.isEmpty else { return text += close }
        for (index, (key, value)) in entries.enumerated() {
            if index > 0 { text += "," }
            if let indent { text += "\n" + String(repeating: indent, count: level + 1) }
            if let key { text += quoted(key) + (indent == nil ? ":" : ": ") }
            append(value, indent: indent, level: level + 1, to: &text)
        }
        if let indent { text += "\n" + String(repeating: indent, count: level) }
        text += close
    }

    /// `5` for 5.0, `0.25` for 0.25; non-finite numbers (not JSON) as strings.
    static func number(_ number: Double) -> String {
        guard number.isFinite else { return quoted(String(number)) }
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    /// A JSON string literal.
    static func quoted(_ string: String) -> String {
        var text = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}
