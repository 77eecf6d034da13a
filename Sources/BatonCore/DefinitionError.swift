
/// A rejected definition: every issue found, each naming the step, the field and the line:column.
public struct DefinitionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Always `.invalidArgument`.
    public var code: BatonError.Code { .invalidArgument }
    /// All issues, one per line.
    public var message: String { issues.map(\.description).joined(separator: "\n") }
    /// The underlying parser error text, when the source was not well-formed YAML/JSON.
    public var cause: String?
    /// The individual problems, in source order.
    public var issues: [ValidationIssue]

    /// Creates an error from its issues.
    public init(issues: [ValidationIssue], cause: String? = nil) {
        self.issues = issues
        self.cause = cause
    }

    /// `invalid definition:` followed by each issue.
    public var description: String { "invalid definition: " + message }

    /// This error as a general ``BatonError``.
    public var asBatonError: BatonError {
        var error = BatonError(.invalidArgument, "invalid definition: " + message)
        error.cause = cause
        return error
    }
}
