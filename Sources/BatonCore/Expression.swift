/// A compiled expression of the definition language (DESIGN §2).
///
/// References are written `${input.x}`, `${steps.NAME.output.path}`, `${steps.NAME.signal.x}` and
/// `${self.output.path}` (inside `${...}` the bare path form `input.x` also works); literals are
/// numbers, `'text'` or `"text"`, `true`, `false`, `null`; operators are `== != < <= > >= && || !`
/// and parentheses.
///
/// ```swift
/// let expression = try Expression.parse("${steps.approval.signal.approved} == true")
/// let value = expression.evaluate(in: resolver)   // .bool(true) or .bool(false)
/// ```
public indirect enum Expression: Hashable, Sendable, CustomStringConvertible {
    /// A constant.
    case literal(JSONValue)
    /// A value read from workflow state.
    case reference(Reference)
    /// Boolean negation.
    case not(Expression)
    /// A binary operation.
    case binary(BinaryOperator, Expression, Expression)

    /// A binary operator.
    public enum BinaryOperator: String, Hashable, Sendable {
        /// Deep equality.
        case equal = "=="
        /// Deep inequality.
        case notEqual = "!="
        /// Less than (numbers or strings).
        case less = "<"
        /// Less than or equal (numbers or strings).
        case lessOrEqual = "<="
        /// Greater than (numbers or strings).
        case greater = ">"
        /// Greater than or equal (numbers or strings).
        case greaterOrEqual = ">="
        /// Logical and, short-circuiting.
        case and = "&&"
        /// Logical or, short-circuiting.
        case or = "||"
    }

    /// Every reference the expression reads, in source order.
    public var references: [Reference] {
        switch self {
        case .literal: return []
        case .reference(let reference): return [reference]
        case .not(let operand): return operand.references
        case .binary(_, let lhs, let rhs): return lhs.references + rhs.references
        }
    }

    /// Source-like rendering, fully parenthesised.
    public var description: String {
        switch self {
        case .literal(let value): return value.canonicalText
        case .reference(let reference): return "${\(reference)}"
        case .not(let operand): return "!\(operand)"
        case .binary(let op, let lhs, let rhs): return "(\(lhs) \(op.rawValue) \(rhs))"
        }
    }
}
