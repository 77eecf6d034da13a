extension InputSchema {
    /// How many violations ``check(_:definition:version:)`` lists in its message.
    public static let maximumReportedViolations = 5

    /// The ways `value` fails this schema, at most `limit` of them, in a stable order: at each value
    /// `type` (nothing more is checked below a value of the wrong type), `const`, `enum`, the
    /// number, string and array bounds, the items in order, then for an object the missing
    /// `required` members in the order written, the `properties` by name, and the members
    /// `additionalProperties: false` does not allow, by name. Empty when the value matches.
    ///
    /// ```swift
    /// let schema = InputSchema(types: [.object], properties: ["budget": InputSchema(minimum: 0)])
    /// schema.validate(["budget": -5]).map(\.description)   // ["input.budget: -5 is less than the minimum 0"]
    /// ```
    public func validate(_ value: JSONValue, limit: Int = maximumReportedViolations) -> [InputSchemaViolation] {
        var walk = SchemaWalk(limit: max(1, limit))
        walk.visit(self, value)
        return walk.violations
    }

    /// Throws INVALID_ARGUMENT when `input` fails this schema, the input_schema of `definition`
    /// version `version`; the message lists the first ``maximumReportedViolations`` violations:
    ///
    ///     input does not match the input_schema of 'marketing_campaign' v1: input.product: required property is missing
    ///
    /// Several are separated by `; `, and `; …` ends the list when there are more.
    public func check(_ input: JSONValue, definition: String, version: Int) throws(BatonError) {
        let found = validate(input, limit: Self.maximumReportedViolations + 1)
        guard !found.isEmpty else { return }
        var message = "input does not match the input_schema of '\(definition)' v\(version): "
            + found.prefix(Self.maximumReportedViolations).map(\.description).joined(separator: "; ")
        if found.count > Self.maximumReportedViolations { message += "; …" }
        throw BatonError(.invalidArgument, message)
    }
}

/// One validation pass: the path to the current value and the violations found so far.
private struct SchemaWalk {
    let limit: Int
    var path: [InputSchemaViolation.PathElement] = []
    var violations: [InputSchemaViolation] = []

    var isFull: Bool { violations.count >= limit }

    mutating func report(_ message: String, at element: InputSchemaViolation.PathElement? = nil) {
        guard !isFull else { return }
        violations.append(InputSchemaViolation(path: element.map { path + [$0] } ?? path, message: message))
    }

    /// Checks `value` against `schema`; the recursion follows the schema, whose depth is bounded.
    mutating func visit(_ schema: InputSchema, _ value: JSONValue) {
        guard !isFull else { return }
        if let types = schema.types, !types.contains(where: { $0.matches(value) }) {
            report("expected \(Self.list(types.map(\.described), joiner: "or")), got \(Self.describe(value))")
            return
        }
        if let constant = schema.constant, constant != value {
            report("\(echo(value)) is not equal to the const \(echo(constant))")
        }
        if let allowed = schema.allowedValues, !allowed.contains(value) {
            let shown = allowed.prefix(10).map { echo($0) }.joined(separator: ", ")
            report("\(echo(value)) is not one of \(shown)" + (allowed.count > 10 ? ", … (\(allowed.count) values)" : ""))
        }
        switch value {
        case .number(let number): checkNumber(schema, number)
        case .string(let string): checkString(schema, string)
        case .array(let items): checkArray(schema, items)
        case .object(let members): checkObject(schema, members)
        case .null, .bool: break
        }
    }

    private mutating func checkNumber(_ schema: InputSchema, _ number: Double) {
        let text = JSONValue.format(number)
        if let bound = schema.minimum, number < bound {
            report("\(text) is less than the minimum \(JSONValue.format(bound))")
        }
        if let bound = schema.maximum, number > bound {
            report("\(text) is greater than the maximum \(JSONValue.format(bound))")
        }
        if let bound = schema.exclusiveMinimum, number <= bound {
            report("\(text) is not greater than the exclusiveMinimum \(JSONValue.format(bound))")
        }
        if let bound = schema.exclusiveMaximum, number >= bound {
            report("\(text) is not less than the exclusiveMaximum \(JSONValue.format(bound))")
        }
    }

    private mutating func checkString(_ schema: InputSchema, _ string: String) {
        guard schema.minLength != nil || schema.maxLength != nil else { return }
        let length = string.unicodeScalars.count
        if let bound = schema.minLength, length < bound {
            report("\(echo(.string(string))) is \(Self.count(length, "character")) long, shorter than the minLength \(bound)")
        }
        if let bound = schema.maxLength, length > bound {
            report("\(echo(.string(string))) is \(Self.count(length, "character")) long, longer than the maxLength \(bound)")
        }
    }

    private mutating func checkArray(_ schema: InputSchema, _ items: [JSONValue]) {
        if let bound = schema.minItems, items.count < bound {
            report("the array has \(Self.count(items.count, "item")), fewer than the minItems \(bound)")
        }
        if let bound = schema.maxItems, items.count > bound {
            report("the array has \(Self.count(items.count, "item")), more than the maxItems \(bound)")
        }
        guard let itemSchema = schema.items else { return }
        for (index, item) in items.enumerated() {
            guard !isFull else { return }
            path.append(.item(index))
            visit(itemSchema, item)
            path.removeLast()
        }
    }

    private mutating func checkObject(_ schema: InputSchema, _ members: [String: JSONValue]) {
        for name in schema.required where members[name] == nil {
            report("required property is missing", at: .property(name))
        }
        for name in schema.properties.keys.sorted() {
            guard !isFull else { return }
            guard let member = members[name], let memberSchema = schema.properties[name] else { continue }
            path.append(.property(name))
            visit(memberSchema, member)
            path.removeLast()
        }
        guard !schema.additionalProperties, !isFull else { return }
        for name in members.keys.sorted() where schema.properties[name] == nil {
            report("property is not allowed (additionalProperties is false)", at: .property(name))
        }
    }

    private func echo(_ value: JSONValue) -> String { InputSchemaViolation.echo(value) }

    /// A scalar echoed (`null`, `true`, `2.5`, `"abc"`: the quotes show a string), `an array`, `an object`.
    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .array: return "an array"
        case .object: return "an object"
        default: return InputSchemaViolation.echo(value)
        }
    }

    /// `a`, `a or b`, `a, b or c`.
    private static func list(_ words: [String], joiner: String) -> String {
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " \(joiner) " + words[words.count - 1]
    }

    /// `1 item`, `3 items`.
    private static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)" + (number == 1 ? "" : "s")
    }
}
