import BatonCore
import Foundation
import Testing

/// Every input of the committed fuzz corpora and regressions (`fuzz/corpus`, `fuzz/regressions`, see
/// `scripts/fuzz`) of the definition reader and the expression parser, replayed without sanitizers:
/// each is parsed or refused with an error, and what parses behaves (a definition's canonical text
/// parses to the same steps; an expression evaluates).
@Suite(.timeLimit(.minutes(2))) struct FuzzCorpusTests {
    /// The files of `fuzz/corpus/TARGET` and `fuzz/regressions/TARGET`.
    static func inputs(_ target: String) -> [(String, [UInt8])] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz")
        return ["corpus", "regressions"].flatMap { kind -> [(String, [UInt8])] in
            let directory = root.appendingPathComponent(kind).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().compactMap { name in
                guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
                    return nil
                }
                return ("\(kind)/\(target)/\(name)", Array(data))
            }
        }
    }

    @Test func definitionInputsParseOrFailCleanly() {
        let inputs = Self.inputs("fuzz-definition")
        #expect(inputs.count >= 5, "the committed corpus is missing")
        var parsed = 0
        for (name, bytes) in inputs {
            guard let definition = try? DefinitionParser.parse(String(decoding: bytes, as: UTF8.self)) else { continue }
            parsed += 1
            let again = try? DefinitionParser.parse(definition.canonicalContent)
            #expect(again.map { Set($0.steps.map(\.name)) } == Set(definition.steps.map(\.name)), "\(name)")
        }
        #expect(parsed >= 5, "the seed definitions parse")
    }

    @Test func expressionInputsParseOrFailCleanly() {
        let inputs = Self.inputs("fuzz-expression")
        #expect(inputs.count >= 8, "the committed corpus is missing")
        var parsed = 0
        for (_, bytes) in inputs {
            let text = String(decoding: bytes, as: UTF8.self)
            if let expression = try? Expression.parse(text) {
                parsed += 1
                _ = expression.evaluate(in: Document())
            }
            if let template = try? Template.compileString(text) { _ = template.evaluate(in: Document()) }
        }
        #expect(parsed >= 1)
    }

    struct Document: ReferenceResolver {
        func resolve(_ reference: Reference) -> JSONValue { ["a": 1, "b": [true, "x", 2.5], "c": ["d": .null]] }
    }
}
