/// A typed activity failure: an error type (matched against `non_retryable_error_types`), a
/// message, optional details, and whether it must not be retried.
public struct ActivityFailure: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// Error type name, e.g. `Timeout`, `CircuitOpen`, `PaymentDeclined`.
    public var type: String
    /// Human-readable message.
    public var message: String
    /// Structured details.
    public var details: JSONValue
    /// When true the step fails at once, whatever the retry policy says.
    public var nonRetryable: Bool

    /// Creates a failure.
    public init(type: String, message: String, details: JSONValue = .null, nonRetryable: Bool = false) {
        self.type = type
        self.message = message
        self.details = details
        self.nonRetryable = nonRetryable
    }

    /// `type: message`.
    public var description: String { "\(type): \(message)" }

    /// The longest failure message a worker may report, in bytes of UTF-8 (details carry large data).
    public static let maximumMessageBytes = 32 * 1024

    /// How much of a failure's message a read keeps when the failure does not fit its budget.
    public static let omittedMessagePrefix = 256

    /// The first ``omittedMessagePrefix`` bytes of `message` (on a character boundary).
    public static func cut(_ message: String) -> String {
        guard message.utf8.count > omittedMessagePrefix else { return message }
        var kept = ""
        for character in message {
            if kept.utf8.count + character.utf8.count > omittedMessagePrefix { break }
            kept.append(character)
        }
        return kept
    }
}
