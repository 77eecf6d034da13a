/// One problem found while parsing or validating a workflow definition.
public struct ValidationIssue: Hashable, Sendable, CustomStringConvertible {
    /// The step the problem belongs to, or `nil` for workflow-level fields.
    public var step: String?
    /// The field path, e.g. `depends_on`, `retry.maximum_attempts`, `when`.
    public var field: String
    /// Where in the source the offending node starts.
    public var location: SourceLocation?
    /// What is wrong.
    public var message: String

    /// Creates an issue.
    public init(step: String?, field: String, location: SourceLocation?, message: String) {
        self.step = step
        self.field = field
        self.location = location
        self.message = message
    }

    /// `step 'x', field 'y' at 3:5: message`.
    public var description: String {
        var out = step.map { "step '\($0)', " } ?? ""
        out += "field '\(field)'"
        if let location { out += " at \(location)" }
        return out + ": " + message
    }
}

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
