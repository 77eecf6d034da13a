extension Expression {
    /// The statically known JSON type of an expression; references are `any`.
    public enum StaticType: String, Hashable, Sendable {
        /// Unknown until evaluation (a reference).
        case any
        /// `null`.
        case null
        /// `true` / `false`.
        case bool
        /// A number.
        case number
        /// A string.
        case string
        /// An array or object literal.
        case composite
    }

    /// Checks operand types where they are known statically and returns the result type.
    ///
    /// Rejected: `!`, `&&`, `||` on non-Boolean literals; ordering operators on literals that are
    /// not numbers or strings; comparing two literal types that can never be equal or ordered.
    public func typeCheck() throws(ExpressionError) -> StaticType {
        switch self {
        case .literal(let value):
            switch value {
            case .null: return .null
            case .bool: return .bool
            case .number: return .number
            case .string: return .string
            case .array, .object: return .composite
            }
        case .reference:
            return .any
        case .not(let operand):
            let type = try operand.typeCheck()
            guard type == .bool || type == .any else {
                throw ExpressionError(message: "'!' needs a boolean, got \(type.rawValue)", offset: 0)
            }
            return .bool
        case .binary(let op, let lhs, let rhs):
            let left = try lhs.typeCheck()
            let right = try rhs.typeCheck()
            switch op {
            case .and, .or:
                for type in [left, right] where type != .bool && type != .any {
                    throw ExpressionError(message: "'\(op.rawValue)' needs booleans, got \(type.rawValue)", offset: 0)
                }
            case .equal, .notEqual:
                if left != .any, right != .any, left != .null, right != .null, left != right {
                    throw ExpressionError(
                        message: "'\(op.rawValue)' compares \(left.rawValue) with \(right.rawValue); never equal",
                        offset: 0)
                }
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                for type in [left, right] where type != .number && type != .string && type != .any {
                    throw ExpressionError(
                        message: "'\(op.rawValue)' needs numbers or strings, got \(type.rawValue)", offset: 0)
                }
                if left != .any, right != .any, left != right {
                    throw ExpressionError(
                        message: "'\(op.rawValue)' compares \(left.rawValue) with \(right.rawValue)", offset: 0)
                }
            }
            return .bool
        }
    }
}
