import Testing

@testable import BatonCore

/// One depth and one size limit for every JSON value from outside, at the limit and one over.
@Suite(.timeLimit(.minutes(2))) struct JSONValueLimitsTests {
    /// `depth` levels of objects: `{"k":{"k":…1…}}`.
    static func nested(_ depth: Int) -> JSONValue {
        var value: JSONValue = 1
        for _ in 0..<depth { value = .object(["k": value]) }
        return value
    }

    @Test func depthCountsArraysAndObjects() {
        #expect(JSONValue.number(1).depth() == 0)
        #expect(JSONValue.object([:]).depth() == 1)
        #expect(JSONValue.array([.object(["a": .array([])])]).depth() == 3)
        #expect(Self.nested(32).depth() == 32)
    }

    @Test func atTheDepthLimitIsAcceptedOneOverIsRefusedNamingFieldAndLimit() throws {
        #expect(Self.nested(JSONValueLimits.maximumDepth).limitViolation(field: "input") == nil)
        let violation = try #require(Self.nested(JSONValueLimits.maximumDepth + 1).limitViolation(field: "input"))
        #expect(violation.hasPrefix("input:") && violation.contains("32"))
        #expect(throws: BatonError.self) { try Self.nested(33).checkLimits(field: "payload") }
    }

    @Test func atTheSizeLimitIsAcceptedOneByteOverIsRefused() throws {
        // A JSON string's text is its characters plus two quotes.
        let atLimit = JSONValue.string(String(repeating: "x", count: JSONValueLimits.maximumBytes - 2))
        #expect(atLimit.canonicalText.utf8.count == JSONValueLimits.maximumBytes)
        #expect(atLimit.limitViolation(field: "output") == nil)
        let over = JSONValue.string(String(repeating: "x", count: JSONValueLimits.maximumBytes - 1))
        let violation = try #require(over.limitViolation(field: "output"))
        #expect(violation.contains("output") && violation.contains("\(JSONValueLimits.maximumBytes)"))
    }

    @Test func theMeasuredSizeIsTheCanonicalTextsLengthByteForByte() throws {
        // Escapes, control characters, multi-byte scalars, numbers with and without fractions.
        let value: JSONValue = [
            "quote\"back\\slash": "line\nbreak\ttab\u{01}é€😀", "n": [1, -2.5, 1e20, 0, true, false, .null],
            "nested": ["a": [[], [:]], "b": ""],
        ]
        let budget = JSONValueLimits.maximumBytes - value.canonicalText.utf8.count
        // `{"p":"…","v":…}` adds 13 bytes around the value. Padding it to exactly the limit is accepted; one more byte is refused.
        let padded: JSONValue = ["v": value, "p": .string(String(repeating: "x", count: budget - 13))]
        #expect(padded.canonicalText.utf8.count == JSONValueLimits.maximumBytes)
        #expect(padded.limitViolation(field: "x") == nil)
        let over: JSONValue = ["v": value, "p": .string(String(repeating: "x", count: budget - 12))]
        #expect(over.limitViolation(field: "x") != nil)
    }

    @Test func aDefinitionLiteralOverTheDepthLimitIsRejectedWithItsStepAndLocation() throws {
        func literal(_ depth: Int) -> String {
            // `input:` is itself one level.
            String(repeating: "{k: ", count: depth - 1) + "1" + String(repeating: "}", count: depth - 1)
        }
        let ok = "name: deep\nsteps:\n  s:\n    activity: builtin.echo\n    input: { k: \(literal(32)) }\n"
        #expect(throws: Never.self) { try DefinitionParser.parse(ok) }
        let deep = "name: deep\nsteps:\n  s:\n    activity: builtin.echo\n    input: { k: \(literal(33)) }\n"
        do {
            _ = try DefinitionParser.parse(deep)
            Issue.record("a 33-level literal was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("s") && text.contains("input") && text.contains("32") && text.contains("5:"), "\(text)")
        }
    }

    @Test func moreStepsThanTheLimitAreRejected() throws {
        func definition(_ count: Int) -> String {
            "name: wide\nsteps:\n" + (0..<count).map { "  s\($0): { activity: builtin.echo }\n" }.joined()
        }
        #expect(throws: Never.self) { try DefinitionParser.parse(definition(DefinitionLimits.maximumSteps)) }
        do {
            _ = try DefinitionParser.parse(definition(DefinitionLimits.maximumSteps + 1))
            Issue.record("10,001 steps were accepted")
        } catch {
            #expect("\(error)".contains("steps") && "\(error)".contains("10000"), "\(error)")
        }
    }

    @Test func anAliasBombIsRejectedBeforeItIsExpanded() throws {
        // Nine anchors, each a list of nine aliases of the previous one: 9^9 ≈ 387 million nodes expanded.
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        yaml += "name: bomb\nsteps:\n  s: { activity: builtin.echo, input: { v: *a9 } }\n"
        do {
            _ = try DefinitionParser.parse(yaml)
            Issue.record("an alias bomb was accepted")
        } catch {
            #expect("\(error)".contains("1000000") && "\(error)".contains("aliases"), "\(error)")
        }
    }

    @Test func aSmallAliasStillWorks() throws {
        let yaml = """
            name: anchored
            defaults: &d { retry: { maximum_attempts: 2 } }
            steps:
              s: { activity: builtin.echo, input: { n: 1 } }
            """
        #expect(try DefinitionParser.parse(yaml).name == "anchored")
    }
}
