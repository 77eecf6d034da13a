/// The one rule for names a definition or a request gives — definitions, activities, signals, queries,
/// task queues, circuit breakers: 1–200 characters, no control characters (so a name is stored,
/// listed and typed back exactly as given: `nul\0tail` is refused, never cut at the `\0`).
public enum NameRule {
    /// The longest name, in characters.
    public static let maximumLength = 200

    /// Why `value` is not a valid name, or nil when it is.
    public static func problem(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.count > maximumLength { return "at most \(maximumLength) characters (got \(value.count))" }
        if let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain control characters (found U+\(String(bad.value, radix: 16, uppercase: true)))"
        }
        return nil
    }

    /// The first 60 characters of `value` with control characters shown as `\u{…}`: how a message
    /// echoes a name or id from outside without letting it drive a terminal or split a log line.
    public static func printable(_ value: String) -> String {
        String(value.prefix(60).unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value)
            ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined())
    }
}
