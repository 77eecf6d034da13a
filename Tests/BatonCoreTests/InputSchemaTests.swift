import BatonCore
import Testing

/// A definition whose `input_schema` is `schema`, written in flow style on line 2 from column 15.
private func source(schema: String) -> String {
    "name: s\ninput_schema: \(schema)\nsteps:\n  a: { activity: builtin.echo }\n"
}

/// The schema `flow` (YAML flow style) parsed through a definition.
private func parsed(_ flow: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> InputSchema {
    let definition = try DefinitionParser.parse(source(schema: flow))
    return try #require(definition.inputSchema, sourceLocation: sourceLocation)
}

/// The violations of `value` against the schema `flow`, rendered `path: message`.
private func violations(_ flow: String, _ value: JSONValue) throws -> [String] {
    try parsed(flow).validate(value).map(\.description)
}

private let campaignSchema = """
    name: marketing_campaign
    input_schema:
      type: object
      required: [product]
      properties:
        product: { type: string, minLength: 1, maxLength: 200 }
        budget: { type: number, minimum: 0 }
        channels: { type: array, items: { type: string, enum: [email, social, ads] }, minItems: 1 }
      additionalProperties: false
    steps:
      a: { activity: builtin.echo }
    """

@Suite(.timeLimit(.minutes(2))) struct InputSchemaTests {
    // MARK: - Parsing

    @Test func parsesTheExampleSchema() throws {
        let definition = try DefinitionParser.parse(campaignSchema)
        let schema = try #require(definition.inputSchema)
        #expect(schema.types == [.object])
        #expect(schema.required == ["product"])
        #expect(schema.additionalProperties == false)
        #expect(schema.properties.keys.sorted() == ["budget", "channels", "product"])
        #expect(schema.properties["product"] == InputSchema(types: [.string], minLength: 1, maxLength: 200))
        #expect(schema.properties["budget"] == InputSchema(types: [.number], minimum: 0))
        let channels = try #require(schema.properties["channels"])
        #expect(channels.minItems == 1)
        #expect(channels.items == InputSchema(types: [.string], allowedValues: ["email", "social", "ads"]))
    }

    @Test func definitionsWithoutASchemaHaveNoneAndTheSchemaIsPartOfTheContent() throws {
        let plain = try DefinitionParser.parse("name: s\nsteps:\n  a: { activity: builtin.echo }\n")
        #expect(plain.inputSchema == nil)
        let withSchema = try DefinitionParser.parse(source(schema: "{ type: object }"))
        #expect(withSchema.inputSchema == InputSchema(types: [.object]))
        #expect(plain.canonicalContent != withSchema.canonicalContent)
        #expect(withSchema.canonicalContent.contains("\"input_schema\":{\"type\":\"object\"}"))
        // An empty schema accepts everything.
        #expect(try parsed("{}").validate(["anything": [1, nil]]).isEmpty)
        #expect(try parsed("{}").validate(nil).isEmpty)
    }

    @Test func keepsTitleDescriptionAndDefaultWithoutApplyingThem() throws {
        let schema = try parsed(
            "{ type: object, title: Order, description: 'what to sell', required: [n], "
                + "properties: { n: { type: integer, default: 3, description: count } } }")
        #expect(schema.title == "Order")
        #expect(schema.description == "what to sell")
        #expect(schema.properties["n"]?.defaultValue == 3)
        #expect(schema.properties["n"]?.description == "count")
        // The default is not filled in: a missing required member is still missing.
        #expect(schema.validate([:]).map(\.description) == ["input.n: required property is missing"])
    }

    // MARK: - type

    @Test func typeAcceptsItsOwnValuesAndRejectsOthers() throws {
        let samples: [(String, JSONValue)] = [
            ("object", ["a": 1]), ("array", [1]), ("string", "s"), ("number", 2.5), ("integer", 3), ("boolean", true),
            ("null", nil),
        ]
        for (type, good) in samples {
            let schema = try parsed("{ type: \(type) }")
            #expect(schema.validate(good).isEmpty, "\(type) rejects \(good)")
            for (other, bad) in samples where other != type && !(type == "number" && other == "integer") {
                #expect(schema.validate(bad).count == 1, "\(type) accepts \(bad)")
            }
        }
        #expect(try violations("{ type: object }", nil) == ["input: expected an object, got null"])
        #expect(try violations("{ type: string }", 5) == ["input: expected a string, got 5"])
        #expect(try violations("{ type: number }", "5") == ["input: expected a number, got \"5\""])
        #expect(try violations("{ type: boolean }", [1]) == ["input: expected a boolean, got an array"])
        #expect(try violations("{ type: array }", ["a": 1]) == ["input: expected an array, got an object"])
        #expect(try violations("{ type: 'null' }", false) == ["input: expected null, got false"])
    }

    @Test func integerMeansANumberWithoutAFraction() throws {
        #expect(try violations("{ type: integer }", 3).isEmpty)
        #expect(try violations("{ type: integer }", -0.0).isEmpty)
        #expect(try violations("{ type: integer }", 2.5) == ["input: expected an integer, got 2.5"])
        #expect(try violations("{ type: number }", 3).isEmpty)
    }

    @Test func aListOfTypesAcceptsAnyOfThem() throws {
        let flow = "{ type: [string, 'null'] }"
        #expect(try violations(flow, "x").isEmpty)
        #expect(try violations(flow, nil).isEmpty)
        #expect(try violations(flow, 1) == ["input: expected a string or null, got 1"])
        #expect(try violations("{ type: [object, array, integer] }", true)
            == ["input: expected an object, an array or an integer, got true"])
    }

    @Test func nothingBelowAValueOfTheWrongTypeIsChecked() throws {
        let flow = "{ type: string, enum: [a], minLength: 3 }"
        #expect(try violations(flow, 12) == ["input: expected a string, got 12"])
        // Without type, a keyword only constrains values of its own type.
        #expect(try violations("{ minLength: 3, minimum: 5, minItems: 2, required: [x] }", 2) == ["input: 2 is less than the minimum 5"])
        #expect(try violations("{ minLength: 3, minimum: 5, minItems: 2, required: [x] }", "abcd").isEmpty)
        #expect(try violations("{ minimum: 5, required: [x] }", [:]) == ["input.x: required property is missing"])
    }

    // MARK: - Objects

    @Test func requiredPropertiesMustBePresent() throws {
        let flow = "{ type: object, required: [product, budget] }"
        #expect(try violations(flow, ["product": "p", "budget": nil]).isEmpty)
        #expect(try violations(flow, ["budget": 1]) == ["input.product: required property is missing"])
        #expect(try violations(flow, [:]) == [
            "input.product: required property is missing", "input.budget: required property is missing",
        ])
    }

    @Test func propertiesCheckPresentMembersOnly() throws {
        let flow = "{ properties: { budget: { type: number, minimum: 0 }, name: { type: string } } }"
        #expect(try violations(flow, [:]).isEmpty)
        #expect(try violations(flow, ["budget": 5, "other": "x"]).isEmpty)
        #expect(try violations(flow, ["budget": -5]) == ["input.budget: -5 is less than the minimum 0"])
        #expect(try violations(flow, ["budget": -5, "name": 1]) == [
            "input.budget: -5 is less than the minimum 0", "input.name: expected a string, got 1",
        ])
    }

    @Test func additionalPropertiesFalseRefusesUnlistedMembers() throws {
        let closed = "{ properties: { a: {}, b: {} }, additionalProperties: false }"
        #expect(try violations(closed, ["a": 1, "b": 2]).isEmpty)
        #expect(try violations(closed, ["a": 1, "z": 2, "c": 3]) == [
            "input.c: property is not allowed (additionalProperties is false)",
            "input.z: property is not allowed (additionalProperties is false)",
        ])
        #expect(try violations("{ properties: { a: {} }, additionalProperties: true }", ["z": 1]).isEmpty)
        #expect(try violations("{ properties: { a: {} } }", ["z": 1]).isEmpty)
        #expect(try parsed("{}").additionalProperties)
    }

    // MARK: - Arrays

    @Test func itemsAreCheckedWithTheirIndex() throws {
        let flow = "{ type: array, items: { type: string, enum: [email, social, ads] } }"
        #expect(try violations(flow, ["email", "ads"]).isEmpty)
        #expect(try violations(flow, []).isEmpty)
        #expect(try violations(flow, ["email", "fax", 3]) == [
            "input[1]: \"fax\" is not one of \"email\", \"social\", \"ads\"", "input[2]: expected a string, got 3",
        ])
    }

    @Test func minItemsAndMaxItems() throws {
        let flow = "{ minItems: 1, maxItems: 2 }"
        #expect(try violations(flow, [1]).isEmpty)
        #expect(try violations(flow, [1, 2]).isEmpty)
        #expect(try violations(flow, []) == ["input: the array has 0 items, fewer than the minItems 1"])
        #expect(try violations(flow, [1, 2, 3]) == ["input: the array has 3 items, more than the maxItems 2"])
        #expect(try violations("{ minItems: 2 }", [1]) == ["input: the array has 1 item, fewer than the minItems 2"])
    }

    // MARK: - enum and const

    @Test func enumAcceptsOnlyTheListedValues() throws {
        let flow = "{ enum: [1, two, null, { k: [true] }] }"
        for value: JSONValue in [1, 1.0, "two", nil, ["k": [true]]] {
            #expect(try violations(flow, value).isEmpty, "\(value)")
        }
        #expect(try violations(flow, 2) == ["input: 2 is not one of 1, \"two\", null, {\"k\":[true]}"])
        #expect(try violations(flow, ["k": [false]]) == [
            "input: {\"k\":[false]} is not one of 1, \"two\", null, {\"k\":[true]}",
        ])
        // Long lists show the first ten values and the count.
        let many = try violations("{ enum: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }", 12)
        #expect(many == ["input: 12 is not one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (12 values)"])
    }

    @Test func constRequiresThatOneValue() throws {
        #expect(try violations("{ const: v1 }", "v1").isEmpty)
        #expect(try violations("{ const: v1 }", "v2") == ["input: \"v2\" is not equal to the const \"v1\""])
        #expect(try violations("{ const: null }", nil).isEmpty)
        #expect(try violations("{ const: null }", 0) == ["input: 0 is not equal to the const null"])
        #expect(try violations("{ const: [1, 2] }", [1, 2]).isEmpty)
        #expect(try violations("{ const: [1, 2] }", [2, 1]).count == 1)
    }

    // MARK: - Numbers

    @Test func inclusiveAndExclusiveBounds() throws {
        #expect(try violations("{ minimum: 0 }", 0).isEmpty)
        #expect(try violations("{ minimum: 0 }", -5) == ["input: -5 is less than the minimum 0"])
        #expect(try violations("{ maximum: 1.5 }", 1.5).isEmpty)
        #expect(try violations("{ maximum: 1.5 }", 2) == ["input: 2 is greater than the maximum 1.5"])
        #expect(try violations("{ exclusiveMinimum: 0 }", 0.25).isEmpty)
        #expect(try violations("{ exclusiveMinimum: 0 }", 0) == ["input: 0 is not greater than the exclusiveMinimum 0"])
        #expect(try violations("{ exclusiveMaximum: 10 }", 9).isEmpty)
        #expect(try violations("{ exclusiveMaximum: 10 }", 10) == ["input: 10 is not less than the exclusiveMaximum 10"])
    }

    // MARK: - Strings

    @Test func lengthsCountUnicodeScalars() throws {
        let flow = "{ minLength: 2, maxLength: 3 }"
        #expect(try violations(flow, "ab").isEmpty)
        #expect(try violations(flow, "abc").isEmpty)
        #expect(try violations(flow, "a") == ["input: \"a\" is 1 character long, shorter than the minLength 2"])
        #expect(try violations(flow, "abcd") == ["input: \"abcd\" is 4 characters long, longer than the maxLength 3"])
        // One precomposed scalar is 1; "e" and a combining accent (one Character) are 2.
        #expect(try violations("{ maxLength: 1 }", "\u{E9}").isEmpty)
        #expect(try violations("{ minLength: 2 }", "e\u{301}").isEmpty)
        #expect(try violations("{ maxLength: 1 }", "e\u{301}").count == 1)
        #expect(try violations("{ minLength: 1 }", "") == ["input: \"\" is 0 characters long, shorter than the minLength 1"])
    }

    // MARK: - Paths and echoes

    @Test func pathsQuoteUnusualNamesAndEchoesAreEscapedAndCut() throws {
        let flow = "{ properties: { 'a b': { items: { properties: { x_1: { type: string } } } } } }"
        #expect(try violations(flow, ["a b": [["x_1": "ok"], ["x_1": nil]]]) == [
            "input[\"a b\"][1].x_1: expected a string, got null",
        ])
        let closed = try parsed("{ additionalProperties: false }")
        #expect(closed.validate(["1st": 1]).map(\.description) == [
            "input[\"1st\"]: property is not allowed (additionalProperties is false)",
        ])
        #expect(closed.validate(["bad\nname\u{7F}": 1]).first?.pathText == "input[\"bad\\nname\\u007f\"]")
        // Control and bidirectional characters are shown escaped.
        #expect(try violations("{ const: a }", "x\u{1B}[2J\u{202E}y") == [
            "input: \"x\\u001b[2J\\u202ey\" is not equal to the const \"a\"",
        ])
        // Long values are cut at 80 characters with an ellipsis.
        let long = String(repeating: "w", count: 500)
        let message = try #require(try violations("{ maxLength: 3 }", .string(long)).first)
        let echoed = "\"" + String(repeating: "w", count: 79) + "…"
        #expect(message == "input: \(echoed) is 500 characters long, longer than the maxLength 3")
        #expect(InputSchemaViolation.echo(.array(Array(repeating: 12345, count: 100))).count == 81)
    }

    // MARK: - Reporting

    @Test func atMostTheLimitIsReportedAndCheckNamesTheDefinition() throws {
        let schema = try parsed("{ items: { type: string } }")
        #expect(schema.validate([1, 2, 3, 4, 5, 6, 7]).count == 5)
        #expect(schema.validate([1, 2, 3], limit: 2).map(\.description) == [
            "input[0]: expected a string, got 1", "input[1]: expected a string, got 2",
        ])
        do {
            try schema.check([1, 2, 3, 4, 5, 6], definition: "d", version: 4)
            Issue.record("check accepted a bad input")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message == "input does not match the input_schema of 'd' v4: "
                + (0..<5).map { "input[\($0)]: expected a string, got \($0 + 1)" }.joined(separator: "; ") + "; …")
        }
        let campaign = try #require(try DefinitionParser.parse(campaignSchema).inputSchema)
        #expect(throws: BatonError(.invalidArgument,
                                   "input does not match the input_schema of 'marketing_campaign' v1: "
                                   + "input.product: required property is missing")) {
            try campaign.check(["budget": 5], definition: "marketing_campaign", version: 1)
        }
        try campaign.check(["product": "Widget", "budget": 0, "channels": ["ads"]], definition: "marketing_campaign", version: 1)
    }

    // MARK: - Registration errors

    @Test func unknownKeywordsAreRefusedWithTheirPathAndPosition() {
        expectIssue(
            "name: s\ninput_schema:\n  type: object\n  properties:\n    product: { type: string, format: email }\nsteps:\n  a: { activity: builtin.echo }\n",
            step: nil, field: "input_schema.properties.product.format", at: "5:30",
            contains: "unsupported input_schema keyword 'format'; the supported keywords are type, properties")
        expectIssue(source(schema: "{ pattern: '^a' }"), step: nil, field: "input_schema.pattern", at: "2:17",
                    contains: "unsupported input_schema keyword 'pattern'")
        expectIssue(source(schema: "{ items: { anyOf: [] } }"), step: nil, field: "input_schema.items.anyOf", at: "2:26",
                    contains: "unsupported input_schema keyword 'anyOf'")
        expectIssue(source(schema: "{ additionalProperties: false, $ref: x }"), step: nil, field: "input_schema.$ref",
                    at: "2:46", contains: "'$ref'")
    }

    @Test func wrongTypedKeywordValuesAreRefusedWithTheirPosition() {
        let cases: [(schema: String, field: String, column: Int, text: String)] = [
            ("{ required: 3 }", "input_schema.required", 27, "expected a list of property names, got 3"),
            ("{ required: [a, 1] }", "input_schema.required", 31, "expected a property name (a string), got 1"),
            ("{ required: [a, a] }", "input_schema.required", 31, "'a' is listed twice"),
            ("{ minimum: \"x\" }", "input_schema.minimum", 26, "expected a number"),
            ("{ maximum: .inf }", "input_schema.maximum", 26, "expected a finite number"),
            ("{ type: strnig }", "input_schema.type", 23, "unknown type 'strnig'; use one of object, array, string"),
            ("{ type: [string, string] }", "input_schema.type", 32, "type 'string' is listed twice"),
            ("{ type: [] }", "input_schema.type", 23, "type must name at least one type"),
            ("{ type: { a: 1 } }", "input_schema.type", 23, "expected a type name or a list of them"),
            ("{ properties: [a] }", "input_schema.properties", 29, "expected a mapping of property names to schemas"),
            ("{ properties: { a: 5 } }", "input_schema.properties.a", 34, "expected a schema"),
            ("{ additionalProperties: { type: string } }", "input_schema.additionalProperties", 39,
             "additionalProperties must be true or false"),
            ("{ items: [{ type: string }] }", "input_schema.items", 24, "a list of schemas is not supported"),
            ("{ enum: [] }", "input_schema.enum", 23, "enum must list at least one value"),
            ("{ enum: a }", "input_schema.enum", 23, "expected a list of allowed values"),
            ("{ minLength: -1 }", "input_schema.minLength", 28, "expected an integer ≥ 0, got '-1'"),
            ("{ maxItems: 1.5 }", "input_schema.maxItems", 27, "expected an integer ≥ 0"),
            ("{ title: [x] }", "input_schema.title", 24, "expected a string"),
            ("{ minimum: 5, maximum: 3 }", "input_schema.maximum", 38, "maximum 3 is less than minimum 5: no value can match"),
            ("{ minLength: 4, maxLength: 2 }", "input_schema.maxLength", 42, "maxLength 2 is less than minLength 4"),
            ("{ required: [x], additionalProperties: false }", "input_schema.required", 28,
             "'x' is required but not in properties, and additionalProperties is false"),
            ("5", "input_schema", 15, "expected a schema (a mapping of keywords"),
        ]
        for entry in cases {
            expectIssue(source(schema: entry.schema), step: nil, field: entry.field, at: "2:\(entry.column)",
                        contains: entry.text)
        }
    }

    @Test func everyProblemIsReportedTogether() {
        let found = issues(source(schema: "{ type: strnig, minimum: x, properties: { a: { format: y } } }"))
        #expect(found.map(\.field).sorted() == [
            "input_schema.minimum", "input_schema.properties.a.format", "input_schema.type",
        ])
    }

    @Test func nestingIsBounded() throws {
        func nested(_ levels: Int) -> String {
            String(repeating: "{ items: ", count: levels - 1) + "{}" + String(repeating: " }", count: levels - 1)
        }
        // 32 schemas in each other are fine, 33 are not.
        var schema: InputSchema? = try parsed(nested(InputSchema.maximumDepth))
        var depth = 0
        while let current = schema {
            depth += 1
            schema = current.items
        }
        #expect(depth == 32)
        let found = issues(source(schema: nested(InputSchema.maximumDepth + 1)))
        #expect(found.count == 1)
        #expect(found.first?.field == "input_schema" + String(repeating: ".items", count: 32))
        #expect(found.first?.message.contains("nests more than 32 schemas") == true)
        #expect(found.first?.location == SourceLocation(line: 2, column: 15 + 9 * 32))
    }
}
