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

/// A path into workflow state that an expression reads.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    /// Where the path starts.
    public enum Root: Hashable, Sendable {
        /// The workflow input.
        case input
        /// A step's output.
        case stepOutput(String)
        /// The payload of the signal a `wait_for_signal` step received.
        case stepSignal(String)
        /// The output of the step being compensated (only inside `compensate`).
        case selfOutput
    }

    /// Where the path starts.
    public var root: Root
    /// Object keys or array indexes below the root.
    public var path: [String]

    /// Creates a reference.
    public init(root: Root, path: [String]) {
        self.root = root
        self.path = path
    }

    /// The step this reference reads from, if any.
    public var step: String? {
        switch root {
        case .stepOutput(let name), .stepSignal(let name): return name
        case .input, .selfOutput: return nil
        }
    }

    /// The dotted path, e.g. `steps.a.output.url`.
    public var description: String {
        let head: String
        switch root {
        case .input: head = "input"
        case .stepOutput(let name): head = "steps.\(name).output"
        case .stepSignal(let name): head = "steps.\(name).signal"
        case .selfOutput: head = "self.output"
        }
        return ([head] + path).joined(separator: ".")
    }
}

/// Supplies the values that references read; implemented by the engine's workflow state.
public protocol ReferenceResolver {
    /// The value at `reference`, or `.null` when it does not exist (yet).
    func resolve(_ reference: Reference) -> JSONValue
}

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
