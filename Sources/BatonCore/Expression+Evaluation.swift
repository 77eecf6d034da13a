extension Expression {
    /// Parses expression text (see ``Expression`` for the grammar).
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        try ExpressionParser.parse(text)
    }

    /// Evaluates against workflow state. Missing paths read as `null`; ordering operators on
    /// values that are not both numbers or both strings yield `false`; boolean operators use
    /// ``JSONValue/isTruthy``. Evaluation never fails.
    public func evaluate(in resolver: some ReferenceResolver) -> JSONValue {
        switch self {
        case .literal(let value):
            return value
        case .reference(let reference):
            return resolver.resolve(reference)
        case .not(let operand):
            return .bool(!operand.evaluate(in: resolver).isTruthy)
        case .binary(.and, let lhs, let rhs):
            return .bool(lhs.evaluate(in: resolver).isTruthy && rhs.evaluate(in: resolver).isTruthy)
        case .binary(.or, let lhs, let rhs):
            return .bool(lhs.evaluate(in: resolver).isTruthy || rhs.evaluate(in: resolver).isTruthy)
        case .binary(let op, let lhs, let rhs):
            return .bool(Expression.compare(op, lhs.evaluate(in: resolver), rhs.evaluate(in: resolver)))
        }
    }

    private static func compare(_ op: BinaryOperator, _ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch op {
        case .equal: return lhs == rhs
        case .notEqual: return lhs != rhs
        default: break
        }
        let ordering: Int
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): ordering = a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .string(let b)): ordering = a < b ? -1 : (a > b ? 1 : 0)
        default: return false
        }
        switch op {
        case .less: return ordering < 0
        case .lessOrEqual: return ordering <= 0
        case .greater: return ordering > 0
        case .greaterOrEqual: return ordering >= 0
        default: return false
        }
    }
}
