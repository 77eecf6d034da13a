import SwiftProtobuf

/// A failure an activity reports on purpose: its `type` is what a step's `non_retryable_error_types`
/// and the history name; `nonRetryable` fails the step at once, whatever its retry policy.
///
/// ```swift
/// throw ActivityError(type: "CardDeclined", message: "the card was declined", nonRetryable: true)
/// ```
public struct ActivityError: Error, Sendable, CustomStringConvertible {
    /// The error type, e.g. `"Timeout"`.
    public var type: String
    /// What went wrong.
    public var message: String
    /// True to fail the step without another attempt.
    public var nonRetryable: Bool
    /// Structured details, recorded with the failure.
    public var details: Google_Protobuf_Value?

    /// Creates an activity failure.
    public init(type: String, message: String, nonRetryable: Bool = false, details: Google_Protobuf_Value? = nil) {
        self.type = type
        self.message = message
        self.nonRetryable = nonRetryable
        self.details = details
    }

    /// `type: message`.
    public var description: String { "\(type): \(message)" }
}
