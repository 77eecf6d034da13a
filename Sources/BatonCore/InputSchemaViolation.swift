/// One way a workflow input fails its definition's ``InputSchema``: where inside the input, and
/// which rule failed.
///
/// ```swift
/// let schema = InputSchema(types: [.object], required: ["product"])
/// schema.validate(["budget": 5]).first?.description   // input.product: required property is missing
/// ```
public struct InputSchemaViolation: Hashable, Sendable, CustomStringConvertible {
    /// One step from a value into a member or an item.
    public enum PathElement: Hashable, Sendable {
        /// The object member with this name.
        case property(String)
        /// The array item at this index (from 0).
        case item(Int)
    }

    /// Where the offending value is, from the input itself (empty for the input as a whole).
    public var path: [PathElement]
    /// The rule that failed, e.g. `-5 is less than the minimum 0`.
    public var message: String

    /// Creates a violation.
    public init(path: [PathElement], message: String) {
        self.path = path
        self.message = message
    }

    /// The path written from the root `input`: `.name` for a member whose name is an identifier,
    /// `["a b"]` for any other name (escaped and cut like echoed values), `[i]` for an item,
    /// e.g. `input.channels[0]`.
    public var pathText: String {
        var out = "input"
        for element in path {
            switch element {
            case .property(let name):
                if Self.isIdentifier(name) {
                    out += "." + name
                } else {
                    out += "[" + Self.echo(.string(name)) + "]"
                }
            case .item(let index):
                out += "[\(index)]"
            }
        }
        return out
    }

    /// `path: message`, e.g. `input.budget: -5 is less than the minimum 0`.
    public var description: String { pathText + ": " + message }

    /// The longest echo of a value in a message, in characters, before it is cut with `…`.
    public static let maximumEchoLength = 80

    /// `value` as compact JSON for a message: control, line-separator and bidirectional-formatting
    /// characters escaped as `\uXXXX`, cut at ``maximumEchoLength`` characters with `…`.
    public static func echo(_ value: JSONValue) -> String {
        var text = ""
        if case .string(let string) = value {
            // Only the start can be shown: do not escape a megabyte to print 80 characters of it.
            JSONValue.writeString(String(string.prefix(maximumEchoLength + 1)), into: &text)
        } else {
            text = value.canonicalText
        }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            } else {
                escaped.unicodeScalars.append(scalar)
            }
            if escaped.unicodeScalars.count > maximumEchoLength * 2 { break }
        }
        guard escaped.count > maximumEchoLength else { return escaped }
        return String(escaped.prefix(maximumEchoLength)) + "…"
    }

    /// Whether `scalar` is shown escaped: C0 and C1 controls, DEL, line and paragraph separators
    /// and bidirectional formatting characters (which could make a message read differently).
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// Whether `name` is written `.name` in a path: an ASCII letter or `_`, then letters, digits, `_`.
    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) }
    }
}

extension Unicode.Scalar {
    /// `A`–`Z` or `a`–`z`.
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
