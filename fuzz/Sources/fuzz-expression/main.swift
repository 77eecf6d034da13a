import BatonCore
import FuzzDriver

/// libFuzzer entry: any bytes as a `when:` expression and as a template string (`${…}`). Parsing
/// either succeeds or throws; what parses is evaluated against a small document.
func fuzzExpression(_ bytes: UnsafeRawBufferPointer) -> CInt {
    let count = bytes.count
    let text = String(decoding: bytes, as: UTF8.self)
    if let expression = try? Expression.parse(text) {
        _ = expression.evaluate(in: FuzzDocument())
    }
    if let template = try? Template.compileString(text) {
        _ = template.evaluate(in: FuzzDocument())
    }
    return 0
}

/// Resolves every reference to the same small document.
struct FuzzDocument: ReferenceResolver {
    func resolve(_ reference: Reference) -> JSONValue {
        ["a": 1, "b": [true, "x", 2.5], "c": ["d": .null]]
    }
}

runFuzzer { input in _ = fuzzExpression(input) }
