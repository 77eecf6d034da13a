import BatonCore
import Testing

struct FixedResolver: ReferenceResolver {
    var input: JSONValue = .null
    var outputs: [String: JSONValue] = [:]

    func resolve(_ reference: Reference) -> JSONValue {
        switch reference.root {
        case .input: return input.lookup(reference.path)
        case .stepOutput(let step), .stepSignal(let step): return (outputs[step] ?? .null).lookup(reference.path)
        case .selfOutput, .selfInput: return .null
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct ExpressionTests {
    let resolver = FixedResolver(
        input: ["product": "Widget", "count": 3, "tags": ["a", "b"]],
        outputs: ["approval": ["approved": true], "score": ["value": 7.5]])

    @Test(arguments: [
        ("${steps.approval.signal.approved} == true", JSONValue.bool(true)),
        ("${input.count} > 2 && ${input.count} <= 3", true),
        ("!(${input.count} == 3) || ${input.product} == 'Widget'", true),
        ("${input.missing} == null", true),
        ("${steps.score.output.value} >= 8", false),
        ("${input.product} != \"Gadget\"", true),
        ("${input.tags.1} == 'b'", true),
        ("input.count < 10", true),
        ("'abc' < 'abd'", true),
        ("${input.product} < 3", false),
        ("!${input.missing}", true),
    ])
    func evaluates(source: String, expected: JSONValue) throws {
        let expression = try Expression.parse(source)
        _ = try expression.typeCheck()
        #expect(expression.evaluate(in: resolver) == expected)
    }

    @Test(arguments: [
        ("${input.x} ==", 13), ("(${input.x} == 1", 16), ("${input.x", 9), ("foo.bar == 1", 0),
        ("${steps.a.result} == 1", 2), ("1 == 2 == 3", 7), ("'open", 0), ("${input.x} = 1", 11),
    ])
    func reportsSyntaxErrorsWithOffset(source: String, offset: Int) {
        #expect(throws: ExpressionError.self) { try Expression.parse(source) }
        do {
            _ = try Expression.parse(source)
        } catch {
            #expect(error.offset == offset, "\(source): \(error)")
        }
    }

    @Test(arguments: ["1 && true", "!'x'", "1 == 'a'", "true < 2", "null > 1", "1 < 'a'"])
    func rejectsIllTypedLiterals(source: String) throws {
        let expression = try Expression.parse(source)
        #expect(throws: ExpressionError.self) { try expression.typeCheck() }
    }

    @Test func anOperatorTheLanguageLacksIsNamedAsSuch() {
        do {
            _ = try Expression.parse("${1/0}")
            Issue.record("${1/0} parsed")
        } catch {
            #expect(error.offset == 3)
            #expect(error.message.contains("'/' is not an operator of the expression language"))
        }
    }

    @Test func collectsReferences() throws {
        let expression = try Expression.parse("${steps.a.output.x} == ${input.y} && ${self.output.id} != null")
        #expect(expression.references.map(\.description) == ["steps.a.output.x", "input.y", "self.output.id"])
        #expect(expression.references.compactMap(\.step) == ["a"])
    }
}

@Suite(.timeLimit(.minutes(2))) struct TemplateTests {
    let resolver = FixedResolver(input: ["product": "Widget", "count": 3, "nested": ["k": [1, 2]]])

    @Test func soleExpressionYieldsTheValueItself() throws {
        let template = try Template.compile(["n": "${input.count}", "obj": "${input.nested}"])
        #expect(template.evaluate(in: resolver) == ["n": 3, "obj": ["k": [1, 2]]])
    }

    @Test func embeddedExpressionsInterpolateAsText() throws {
        let template = try Template.compile("About ${input.product} (${input.count}) ${input.nested}")
        #expect(template.evaluate(in: resolver) == "About Widget (3) {\"k\":[1,2]}")
    }

    @Test func constantsStayConstant() throws {
        let template = try Template.compile(["a": 1, "b": ["x", true]])
        #expect(template.isConstant)
        #expect(template.evaluate(in: resolver) == ["a": 1, "b": ["x", true]])
    }

    @Test func errorsCarryPathAndOffset() {
        do {
            _ = try Template.compile(["outer": ["x", "value: ${input.}"]])
            Issue.record("expected an error")
        } catch {
            #expect(error.path == ["outer", "1"])
            #expect(error.error.offset == 9)
        }
    }
}
