/// A JSON value: the type of workflow inputs, step outputs, signal payloads and query results.
///
/// ```swift
/// let input: JSONValue = ["product": "Widget", "budget": 100]
/// input["product"]            // .string("Widget")
/// input.lookup(["budget"])    // .number(100)
/// ```
public enum JSONValue: Hashable, Sendable {
    /// JSON `null`.
    case null
    /// JSON `true` / `false`.
    case bool(Bool)
    /// A JSON number (always a `Double`, as in `google.protobuf.Value`).
    case number(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object.
    case object([String: JSONValue])

    /// The member named `key` when this is an object, otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Follows a path of object keys and array indexes (given as decimal strings);
    /// returns `.null` when any segment is missing.
    public func lookup<Path: Sequence>(_ path: Path) -> JSONValue where Path.Element == String {
        var current = self
        for segment in path {
            switch current {
            case .object(let members):
                current = members[segment] ?? .null
            case .array(let items):
                guard let index = Int(segment), items.indices.contains(index) else { return .null }
                current = items[index]
            default:
                return .null
            }
        }
        return current
    }

    /// The Boolean payload when this is `.bool`, otherwise `nil`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The numeric payload when this is `.number`, otherwise `nil`.
    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The string payload when this is `.string`, otherwise `nil`.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Truthiness used by boolean operators: `null`, `false`, `0` and `""` are false, everything else true.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let value): return value
        case .number(let value): return value != 0
        case .string(let value): return !value.isEmpty
        case .array, .object: return true
        }
    }

    /// The name of this value's JSON type (`null`, `bool`, `number`, `string`, `array`, `object`).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// Creates `.null`.
    public init(nilLiteral: ()) { self = .null }
    /// Creates `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates `.number`.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// Creates `.number`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// Creates `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Creates `.object`; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
