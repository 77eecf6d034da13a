/// A JSON value that may contain `${...}` expressions, compiled once at registration.
///
/// A string that is exactly one `${...}` evaluates to the JSON value itself (so
/// `"${input.count}"` yields a number); expressions embedded in longer text are interpolated as text.
///
/// ```swift
/// let template = try Template.compile(["topic": "${input.product}", "title": "About ${input.product}"])
/// template.evaluate(in: resolver)   // {"topic": <value>, "title": "About Widget"}
/// ```
public indirect enum Template: Hashable, Sendable {
    /// A constant with no expressions.
    case value(JSONValue)
    /// A string that is exactly one `${...}`.
    case expression(Expression)
    /// Text with embedded expressions.
    case interpolation([Part])
    /// An array whose elements are templates.
    case array([Template])
    /// An object whose members are templates.
    case object([String: Template])

    /// A piece of an interpolated string.
    public enum Part: Hashable, Sendable {
        /// Literal text.
        case text(String)
        /// An expression rendered with ``JSONValue/interpolationText``.
        case expression(Expression)
    }

    /// A template that always yields `null`.
    public static let null = Template.value(.null)

    /// Compiles `value`; the error carries the offset within the offending string and, for
    /// nested values, the path to it in `path`.
    public static func compile(_ value: JSONValue) throws(TemplateError) -> Template {
        try compile(value, path: [])
    }

    private static func compile(_ value: JSONValue, path: [String]) throws(TemplateError) -> Template {
        switch value {
        case .string(let text):
            do {
                return try compileString(text)
            } catch {
                throw TemplateError(path: path, error: error)
            }
        case .array(let items):
            var compiled: [Template] = []
            for (index, item) in items.enumerated() {
                compiled.append(try compile(item, path: path + [String(index)]))
            }
            return compiled.allSatisfy(\.isConstant) ? .value(value) : .array(compiled)
        case .object(let members):
            var compiled: [String: Template] = [:]
            for (key, member) in members {
                compiled[key] = try compile(member, path: path + [key])
            }
            return compiled.values.allSatisfy(\.isConstant) ? .value(value) : .object(compiled)
        default:
            return .value(value)
        }
    }

    /// Compiles one string: constant text, a sole `${...}`, or interpolated text.
    public static func compileString(_ text: String) throws(ExpressionError) -> Template {
        let chars = Array(text)
        var parts: [Part] = []
        var literal = ""
        var index = 0
        while index < chars.count {
            if chars[index] == "$", index + 1 < chars.count, chars[index + 1] == "{" {
                let end = try closingBrace(chars, from: index)
                let source = String(chars[index...end])
                do {
                    let expression = try Expression.parse(source)
                    _ = try expression.typeCheck()
                    if !literal.isEmpty { parts.append(.text(literal)) }
                    literal = ""
                    parts.append(.expression(expression))
                } catch {
                    throw ExpressionError(message: error.message, offset: index + error.offset)
                }
                index = end + 1
            } else {
                literal.append(chars[index])
                index += 1
            }
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        if parts.isEmpty { return .value(.string("")) }
        if parts.count == 1, case .expression(let expression) = parts[0] { return .expression(expression) }
        if parts.count == 1, case .text(let text) = parts[0] { return .value(.string(text)) }
        return .interpolation(parts)
    }

    private static func closingBrace(_ chars: [Character], from start: Int) throws(ExpressionError) -> Int {
        var depth = 0
        var index = start + 1
        var quote: Character?
        while index < chars.count {
            let char = chars[index]
            if let open = quote {
                if char == "\\" { index += 1 } else if char == open { quote = nil }
            } else if char == "\"" || char == "'" {
                quote = char
            } else if char == "{" {
                depth += 1
            } else if char == "}" {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        throw ExpressionError(message: "unterminated '${'", offset: start)
    }

    /// True when the template contains no expressions.
    public var isConstant: Bool {
        if case .value = self { return true }
        return false
    }

    /// Every reference the template reads.
    public var references: [Reference] {
        switch self {
        case .value: return []
        case .expression(let expression): return expression.references
        case .interpolation(let parts):
            return parts.flatMap { part -> [Reference] in
                if case .expression(let expression) = part { return expression.references }
                return []
            }
        case .array(let items): return items.flatMap(\.references)
        case .object(let members): return members.keys.sorted().flatMap { members[$0]!.references }
        }
    }

    /// Produces the JSON value against workflow state.
    public func evaluate(in resolver: some ReferenceResolver) -> JSONValue {
        switch self {
        case .value(let value): return value
        case .expression(let expression): return expression.evaluate(in: resolver)
        case .interpolation(let parts):
            var out = ""
            for part in parts {
                switch part {
                case .text(let text): out += text
                case .expression(let expression): out += expression.evaluate(in: resolver).interpolationText
                }
            }
            return .string(out)
        case .array(let items): return .array(items.map { $0.evaluate(in: resolver) })
        case .object(let members): return .object(members.mapValues { $0.evaluate(in: resolver) })
        }
    }
}
