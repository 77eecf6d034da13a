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
