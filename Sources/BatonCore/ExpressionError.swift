/// A syntax or type error in an expression, with the character offset where it was found.
public struct ExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Always `.invalidArgument`.
    public var code: BatonError.Code { .invalidArgument }
    /// What is wrong.
    public var message: String
    /// Offset (in characters) into the expression text.
    public var offset: Int
    /// No underlying cause: expression errors are detected directly.
    public var cause: String? { nil }

    /// Creates an error.
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// The message with its offset.
    public var description: String { "\(message) (at offset \(offset))" }
}
