/// Recursive-descent parser for ``Expression`` text.
struct ExpressionParser {
    private let chars: [Character]
    private var position = 0

    init(_ text: String) { chars = Array(text) }

    /// Parses a whole expression; trailing text is an error.
    static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(text)
        let expression = try parser.parseOr()
        parser.skipSpaces()
        if parser.position < parser.chars.count {
            throw ExpressionError(message: "unexpected '\(parser.chars[parser.position])'", offset: parser.position)
        }
        return expression
    }

    private mutating func parseOr() throws(ExpressionError) -> Expression {
        var lhs = try parseAnd()
        while consume("||") { lhs = .binary(.or, lhs, try parseAnd()) }
        return lhs
    }

    private mutating func parseAnd() throws(ExpressionError) -> Expression {
        var lhs = try parseComparison()
        while consume("&&") { lhs = .binary(.and, lhs, try parseComparison()) }
        return lhs
    }

    private mutating func parseComparison() throws(ExpressionError) -> Expression {
        let lhs = try parseUnary()
        for op in [Expression.BinaryOperator.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater]
        where consume(op.rawValue) {
            let rhs = try parseUnary()
            skipSpaces()
            for other in ["==", "!=", "<", ">"] where peek(other) {
                throw ExpressionError(message: "comparisons do not chain; add parentheses", offset: position)
            }
            return .binary(op, lhs, rhs)
        }
        return lhs
    }

    private mutating func parseUnary() throws(ExpressionError) -> Expression {
        skipSpaces()
        if peek("!") && !peek("!=") {
            position += 1
            return .not(try parseUnary())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        skipSpaces()
        guard position < chars.count else { throw ExpressionError(message: "expected a value", offset: position) }
        let start = position
        if consume("${") {
            let inner = try parseOr()
            guard consume("}") else {
                skipSpaces()
                // Say what stands in the way: an operator the language does not have (`${1/0}`), or the end.
                guard position < chars.count else { throw ExpressionError(message: "expected '}' to close '${'", offset: position) }
                let char = chars[position]
                let message = "/*%-^".contains(char)
                    ? "'\(char)' is not an operator of the expression language (it has ==, !=, <, <=, >, >=, &&, ||, !)"
                    : "unexpected '\(char)'; expected '}' to close '${'"
                throw ExpressionError(message: message, offset: position)
            }
            return inner
        }
        if consume("(") {
            let inner = try parseOr()
            guard consume(")") else { throw ExpressionError(message: "expected ')'", offset: position) }
            return inner
        }
        let char = chars[position]
        if char == "\"" || char == "'" { return .literal(.string(try parseString(quote: char))) }
        if char.isNumber || (char == "-" && position + 1 < chars.count && chars[position + 1].isNumber) {
            return .literal(.number(try parseNumber()))
        }
        if isSegmentChar(char) {
            let segments = parsePath()
            return try makeReference(segments, offset: start)
        }
        throw ExpressionError(message: "unexpected '\(char)'", offset: position)
    }

    private mutating func parseString(quote: Character) throws(ExpressionError) -> String {
        let start = position
        position += 1
        var out = ""
        while position < chars.count {
            let char = chars[position]
            position += 1
            if char == quote { return out }
            if char == "\\", position < chars.count {
                let escaped = chars[position]
                position += 1
                switch escaped {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(escaped)
                }
            } else {
                out.append(char)
            }
        }
        throw ExpressionError(message: "unterminated string", offset: start)
    }

    private mutating func parseNumber() throws(ExpressionError) -> Double {
        let start = position
        if chars[position] == "-" { position += 1 }
        while position < chars.count, chars[position].isNumber || chars[position] == "." { position += 1 }
        let text = String(chars[start..<position])
        guard let value = Double(text) else { throw ExpressionError(message: "bad number '\(text)'", offset: start) }
        return value
    }

    private func isSegmentChar(_ char: Character) -> Bool {
        char.isASCII && (char.isLetter || char.isNumber || char == "_" || char == "-")
    }

    private mutating func parsePath() -> [String] {
        var segments: [String] = []
        var current = ""
        while position < chars.count {
            let char = chars[position]
            if isSegmentChar(char) {
                current.append(char)
            } else if char == "." && !current.isEmpty {
                segments.append(current)
                current = ""
            } else {
                break
            }
            position += 1
        }
        segments.append(current)
        return segments
    }

    private func makeReference(_ segments: [String], offset: Int) throws(ExpressionError) -> Expression {
        let rest = Array(segments.dropFirst())
        if rest.contains("") { throw ExpressionError(message: "empty path segment", offset: offset) }
        switch segments[0] {
        case "true" where rest.isEmpty: return .literal(.bool(true))
        case "false" where rest.isEmpty: return .literal(.bool(false))
        case "null" where rest.isEmpty: return .literal(.null)
        case "input":
            return .reference(Reference(root: .input, path: rest))
        case "steps":
            guard rest.count >= 2 else {
                throw ExpressionError(message: "expected steps.NAME.output or steps.NAME.signal", offset: offset)
            }
            switch rest[1] {
            case "output": return .reference(Reference(root: .stepOutput(rest[0]), path: Array(rest.dropFirst(2))))
            case "signal": return .reference(Reference(root: .stepSignal(rest[0]), path: Array(rest.dropFirst(2))))
            default:
                throw ExpressionError(
                    message: "unknown step field '\(rest[1])'; expected 'output' or 'signal'", offset: offset)
            }
        case "self":
            switch rest.first {
            case "output": return .reference(Reference(root: .selfOutput, path: Array(rest.dropFirst())))
            case "input": return .reference(Reference(root: .selfInput, path: Array(rest.dropFirst())))
            default: throw ExpressionError(message: "expected self.output or self.input", offset: offset)
            }
        default:
            throw ExpressionError(
                message: "unknown name '\(segments.joined(separator: "."))'; references start with input, steps or self",
                offset: offset)
        }
    }

    private mutating func skipSpaces() {
        while position < chars.count, chars[position].isWhitespace { position += 1 }
    }

    private func peek(_ token: String) -> Bool {
        var index = position
        for char in token {
            guard index < chars.count, chars[index] == char else { return false }
            index += 1
        }
        return true
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpaces()
        guard peek(token) else { return false }
        position += token.count
        return true
    }
}
