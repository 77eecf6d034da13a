/// The optional `input_schema` of a workflow definition: a subset of JSON Schema that every run's
/// input is checked against when the run starts (a mismatch is INVALID_ARGUMENT naming the path
/// inside the input and the rule that failed; see ``check(_:definition:version:)``).
///
/// ```yaml
/// input_schema:
///   type: object
///   required: [product]
///   properties:
///     product: { type: string, minLength: 1, maxLength: 200 }
///     budget: { type: number, minimum: 0 }
///     channels: { type: array, items: { type: string, enum: [email, social, ads] }, minItems: 1 }
///   additionalProperties: false
/// ```
///
/// The supported keywords (any other keyword, `pattern` and `format` included, is rejected when the
/// definition is registered, with its field path and line:column):
///
/// - `type`: one of `object`, `array`, `string`, `number`, `integer`, `boolean`, `null`, or a list
///   of them. `integer` is a number without a fractional part; `number` accepts integers too.
/// - `properties` (a mapping of property names to schemas), `required` (a list of property names),
///   `additionalProperties` (`true` or `false` only; a schema is not supported).
/// - `items`: one schema that every item of an array must match (the list form is not supported).
/// - `enum` (a non-empty list of JSON values), `const` (one JSON value): the value must equal one of
///   them (numbers compare by value: `1` equals `1.0`).
/// - `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`: finite numbers.
/// - `minLength`, `maxLength`: integers ≥ 0; a string's length is counted in Unicode scalars (code
///   points, as JSON Schema specifies), so `"é"` written as one code point is 1 and as `e` plus a
///   combining accent is 2.
/// - `minItems`, `maxItems`: integers ≥ 0.
/// - `title`, `description`: kept, ignored by validation.
/// - `default`: kept but **not applied**: a missing property stays missing (and fails `required`).
///
/// As in JSON Schema, a keyword only constrains values of its own type: `minimum` says nothing
/// about a string and `minLength` nothing about a number; use `type` to rule other types out.
/// Schemas nest at most ``maximumDepth`` levels (the top-level schema is level 1).
public struct InputSchema: Hashable, Sendable {
    /// A JSON type name usable in `type`.
    public enum JSONType: String, Hashable, Sendable, CaseIterable {
        /// A JSON object.
        case object
        /// A JSON array.
        case array
        /// A JSON string.
        case string
        /// Any JSON number.
        case number
        /// A JSON number without a fractional part.
        case integer
        /// `true` or `false`.
        case boolean
        /// JSON `null`.
        case null

        /// Whether `value` is of this type.
        public func matches(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (.object, .object), (.array, .array), (.string, .string), (.number, .number), (.boolean, .bool),
                (.null, .null):
                return true
            case (.integer, .number(let number)):
                return number.isFinite && number == number.rounded()
            default:
                return false
            }
        }

        /// The name with an article, for messages: `an object`, `a string`, `null`.
        public var described: String {
            switch self {
            case .object, .array, .integer: return "an \(rawValue)"
            case .string, .number, .boolean: return "a \(rawValue)"
            case .null: return "null"
            }
        }
    }

    /// How many schemas may nest inside each other through `properties` and `items` (the top-level
    /// schema counts as 1): the same as the nesting limit of JSON values, since a deeper schema
    /// could only describe values that are refused anyway.
    public static let maximumDepth = JSONValueLimits.maximumDepth

    /// `type`: the value must be of one of these types; `nil` allows every type.
    public var types: [JSONType]?
    /// `properties`: schemas of an object's named members (members that are absent are not checked).
    public var properties: [String: InputSchema]
    /// `required`: members an object must have, in the order written.
    public var required: [String]
    /// `additionalProperties`: whether an object may have members not named in ``properties``.
    public var additionalProperties: Bool
    /// `enum`: the value must equal one of these.
    public var allowedValues: [JSONValue]?
    /// `const`: the value must equal this one (`.some(.null)` requires `null`).
    public var constant: JSONValue?
    /// `minimum`: a number must be ≥ this.
    public var minimum: Double?
    /// `maximum`: a number must be ≤ this.
    public var maximum: Double?
    /// `exclusiveMinimum`: a number must be > this.
    public var exclusiveMinimum: Double?
    /// `exclusiveMaximum`: a number must be < this.
    public var exclusiveMaximum: Double?
    /// `minLength`: a string must have at least this many Unicode scalars.
    public var minLength: Int?
    /// `maxLength`: a string must have at most this many Unicode scalars.
    public var maxLength: Int?
    /// `minItems`: an array must have at least this many items.
    public var minItems: Int?
    /// `maxItems`: an array must have at most this many items.
    public var maxItems: Int?
    /// `title`: free text, ignored by validation.
    public var title: String?
    /// `description`: free text, ignored by validation.
    public var description: String?
    /// `default`: kept for readers, never applied to the input.
    public var defaultValue: JSONValue?
    /// Storage of ``items`` (zero or one element): a struct cannot hold an optional of itself directly.
    private var itemStorage: [InputSchema]

    /// `items`: the schema every item of an array must match.
    public var items: InputSchema? {
        get { itemStorage.first }
        set { itemStorage = newValue.map { [$0] } ?? [] }
    }

    /// Creates a schema; with no arguments, one that accepts every value.
    public init(
        types: [JSONType]? = nil, properties: [String: InputSchema] = [:], required: [String] = [],
        additionalProperties: Bool = true, items: InputSchema? = nil, allowedValues: [JSONValue]? = nil,
        constant: JSONValue? = nil, minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Double? = nil,
        exclusiveMaximum: Double? = nil, minLength: Int? = nil, maxLength: Int? = nil, minItems: Int? = nil,
        maxItems: Int? = nil, title: String? = nil, description: String? = nil, defaultValue: JSONValue? = nil
    ) {
        self.types = types
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.itemStorage = items.map { [$0] } ?? []
        self.allowedValues = allowedValues
        self.constant = constant
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
        self.exclusiveMaximum = exclusiveMaximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.minItems = minItems
        self.maxItems = maxItems
        self.title = title
        self.description = description
        self.defaultValue = defaultValue
    }
}
