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
}
