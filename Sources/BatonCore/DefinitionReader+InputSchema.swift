import Yams

extension DefinitionReader {
    /// The keywords an `input_schema` may use, in the order the "supported keywords" message lists them.
    static let inputSchemaKeywords = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "title",
        "description", "default",
    ]
    static let inputSchemaKeywordSet = Set(inputSchemaKeywords)

    /// Reads the schema at `node`, whose field path is `field` and nesting level `depth` (the
    /// top-level schema is 1), reporting every problem with its field path and line:column.
    func readInputSchema(_ node: Node, field: String, depth: Int = 1) -> InputSchema? {
        guard case .mapping(let mapping) = node else {
            issue(nil, field, location(node), "expected a schema (a mapping of keywords such as type and properties)")
            return nil
        }
        guard depth <= InputSchema.maximumDepth else {
            issue(nil, field, location(node),
                  "input_schema nests more than \(InputSchema.maximumDepth) schemas in each other through properties "
                  + "and items (the limit is \(InputSchema.maximumDepth))")
            return nil
        }
        var keywords: [String: Node] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                issue(nil, field, location(key), "expected a keyword, got a \(key.kindName)")
                continue
            }
            let name = scalar.string
            if Self.inputSchemaKeywordSet.contains(name) {
                keywords[name] = value
            } else {
                issue(nil, "\(field).\(Self.printable(name))", location(key),
                      "unsupported input_schema keyword '\(Self.printable(name))'; the supported keywords are "
                      + Self.inputSchemaKeywords.joined(separator: ", "))
            }
        }
        var schema = InputSchema()
        if let node = keywords["type"] { schema.types = schemaTypes(node, field: field + ".type") }
        if let node = keywords["properties"] {
            schema.properties = schemaProperties(node, field: field + ".properties", depth: depth)
        }
        if let node = keywords["required"] { schema.required = schemaRequired(node, field: field + ".required") }
        if let node = keywords["additionalProperties"] {
            if case .scalar = node, case .bool(let allowed) = json(node) {
                schema.additionalProperties = allowed
            } else {
                issue(nil, field + ".additionalProperties", location(node),
                      "additionalProperties must be true or false (a schema is not supported)")
            }
        }
        if let node = keywords["items"] {
            if case .sequence = node {
                issue(nil, field + ".items", location(node),
                      "items must be one schema (a mapping); a list of schemas is not supported")
            } else {
                schema.items = readInputSchema(node, field: field + ".items", depth: depth + 1)
            }
        }
        if let node = keywords["enum"] { schema.allowedValues = schemaEnum(node, field: field + ".enum") }
        if let node = keywords["const"] { schema.constant = schemaValue(node, field: field + ".const") }
        if let node = keywords["default"] { schema.defaultValue = schemaValue(node, field: field + ".default") }
        schema.minimum = keywords["minimum"].flatMap { schemaNumber($0, field: field + ".minimum") }
        schema.maximum = keywords["maximum"].flatMap { schemaNumber($0, field: field + ".maximum") }
        schema.exclusiveMinimum = keywords["exclusiveMinimum"].flatMap { schemaNumber($0, field: field + ".exclusiveMinimum") }
        schema.exclusiveMaximum = keywords["exclusiveMaximum"].flatMap { schemaNumber($0, field: field + ".exclusiveMaximum") }
        schema.minLength = keywords["minLength"].flatMap { integer($0, step: nil, field: field + ".minLength", minimum: 0) }
        schema.maxLength = keywords["maxLength"].flatMap { integer($0, step: nil, field: field + ".maxLength", minimum: 0) }
        schema.minItems = keywords["minItems"].flatMap { integer($0, step: nil, field: field + ".minItems", minimum: 0) }
        schema.maxItems = keywords["maxItems"].flatMap { integer($0, step: nil, field: field + ".maxItems", minimum: 0) }
        schema.title = keywords["title"].flatMap { schemaText($0, field: field + ".title") }
        schema.description = keywords["description"].flatMap { schemaText($0, field: field + ".description") }
        checkSatisfiable(schema, keywords: keywords, field: field)
        return schema
    }

    /// `type`: one type name or a non-empty list of distinct ones.
    private func schemaTypes(_ node: Node, field: String) -> [InputSchema.JSONType]? {
        let names: [Node]
        switch node {
        case .scalar: names = [node]
        case .sequence(let sequence):
            names = Array(sequence)
            if names.isEmpty { issue(nil, field, location(node), "type must name at least one type") }
        default:
            issue(nil, field, location(node), "expected a type name or a list of them, got a \(node.kindName)")
            return nil
        }
        var types: [InputSchema.JSONType] = []
        let choices = InputSchema.JSONType.allCases.map(\.rawValue).joined(separator: ", ")
        for name in names {
            guard case .scalar(let scalar) = name else {
                issue(nil, field, location(name), "expected a type name (one of \(choices)), got a \(name.kindName)")
                continue
            }
            guard let type = InputSchema.JSONType(rawValue: scalar.string) else {
                issue(nil, field, location(name), "unknown type '\(Self.printable(scalar.string))'; use one of \(choices)")
                continue
            }
            if types.contains(type) {
                issue(nil, field, location(name), "type '\(type.rawValue)' is listed twice")
            } else {
                types.append(type)
            }
        }
        return types.isEmpty ? nil : types
    }

    /// `properties`: a mapping of member names to schemas, one level deeper.
    private func schemaProperties(_ node: Node, field: String, depth: Int) -> [String: InputSchema] {
        guard case .mapping(let mapping) = node else {
            issue(nil, field, location(node), "expected a mapping of property names to schemas, got a \(node.kindName)")
            return [:]
        }
        var properties: [String: InputSchema] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                issue(nil, field, location(key), "expected a property name, got a \(key.kindName)")
                continue
            }
            let name = scalar.string
            if let schema = readInputSchema(value, field: "\(field).\(Self.printable(name))", depth: depth + 1) {
                properties[name] = schema
            }
        }
        return properties
    }

    /// `required`: a list of distinct member names, each a string.
    private func schemaRequired(_ node: Node, field: String) -> [String] {
        guard case .sequence(let sequence) = node else {
            issue(nil, field, location(node), "expected a list of property names, got \(Self.described(node, json(node)))")
            return []
        }
        var names: [String] = []
        for item in sequence {
            let value = json(item)
            guard case .scalar = item, case .string(let name) = value else {
                issue(nil, field, location(item),
                      "expected a property name (a string), got \(Self.described(item, value)); quote it if it is a name")
                continue
            }
            if names.contains(name) {
                issue(nil, field, location(item), "'\(Self.printable(name))' is listed twice")
            } else {
                names.append(name)
            }
        }
        return names
    }

    /// `enum`: a non-empty list of JSON values within the value limits.
    private func schemaEnum(_ node: Node, field: String) -> [JSONValue]? {
        guard case .sequence(let sequence) = node else {
            issue(nil, field, location(node), "expected a list of allowed values, got \(Self.described(node, json(node)))")
            return nil
        }
        guard !sequence.isEmpty else {
            issue(nil, field, location(node), "enum must list at least one value (an empty enum matches nothing)")
            return nil
        }
        guard let value = schemaValue(node, field: field), case .array(let values) = value else { return nil }
        return values
    }

    /// `const`, `default`, `enum`: a JSON value within the value limits.
    private func schemaValue(_ node: Node, field: String) -> JSONValue? {
        let value = json(node)
        if let violation = value.limitViolation(field: field) {
            issue(nil, field, location(node), violation)
            return nil
        }
        return value
    }

    /// `minimum` and its kin: a finite number.
    private func schemaNumber(_ node: Node, field: String) -> Double? {
        guard let value = number(node, step: nil, field: field) else { return nil }
        guard value.isFinite else {
            issue(nil, field, location(node), "expected a finite number")
            return nil
        }
        return value
    }

    /// `title`, `description`: any scalar, kept as text.
    private func schemaText(_ node: Node, field: String) -> String? {
        guard case .scalar(let scalar) = node else {
            issue(nil, field, location(node), "expected a string, got a \(node.kindName)")
            return nil
        }
        return scalar.string
    }

    /// Bounds that no value can meet are mistakes, reported where the second bound is written.
    private func checkBounds(
        _ lower: Double?, _ upper: Double?, names: (String, String), keywords: [String: Node], field: String
    ) {
        guard let lower, let upper, lower > upper, let node = keywords[names.1] else { return }
        issue(nil, "\(field).\(names.1)", location(node),
              "\(names.1) \(JSONValue.format(upper)) is less than \(names.0) \(JSONValue.format(lower)): no value can match")
    }

    private func checkSatisfiable(_ schema: InputSchema, keywords: [String: Node], field: String) {
        checkBounds(schema.minimum, schema.maximum, names: ("minimum", "maximum"), keywords: keywords, field: field)
        checkBounds(schema.minLength.map(Double.init), schema.maxLength.map(Double.init),
                              names: ("minLength", "maxLength"), keywords: keywords, field: field)
        checkBounds(schema.minItems.map(Double.init), schema.maxItems.map(Double.init),
                              names: ("minItems", "maxItems"), keywords: keywords, field: field)
        guard !schema.additionalProperties, case .sequence(let items)? = keywords["required"] else { return }
        var declared: Set<String> = []
        if case .mapping(let properties)? = keywords["properties"] {
            for (key, _) in properties { if case .scalar(let scalar) = key { declared.insert(scalar.string) } }
        }
        for item in items {
            guard case .string(let name) = json(item), !declared.contains(name) else { continue }
            issue(nil, field + ".required", location(item),
                  "'\(Self.printable(name))' is required but not in properties, and additionalProperties is false: "
                  + "no value can match")
        }
    }

    /// How a wrong-typed keyword value is named in a message: `3`, `"x"`, `a mapping`.
    private static func described(_ node: Node, _ value: JSONValue) -> String {
        if case .scalar = node { return InputSchemaViolation.echo(value) }
        return "a \(node.kindName)"
    }
}

extension Node {
    /// `mapping`, `sequence`, `scalar` or `alias`, for messages.
    var kindName: String {
        switch self {
        case .mapping: return "mapping"
        case .sequence: return "sequence"
        case .scalar: return "scalar"
        case .alias: return "alias"
        }
    }
}
