/// An expression error inside a template, with the path (keys/indexes) to the offending string.
public struct TemplateError: Error, Hashable, Sendable {
    /// Path from the template root to the string holding the bad expression.
    public var path: [String]
    /// The expression error.
    public var error: ExpressionError

    /// Always `.invalidArgument`.
    public var code: BatonError.Code { .invalidArgument }
    /// The expression error's message, prefixed with the path when nested.
    public var message: String { path.isEmpty ? error.message : "\(path.joined(separator: ".")): \(error.message)" }
    /// The underlying expression error.
    public var cause: String? { error.description }
}
