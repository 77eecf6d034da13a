import BatonCore
import FuzzDriver

/// libFuzzer entry: any bytes as a definition source (YAML or JSON). Parsing either succeeds or
/// throws a DefinitionError; it must never crash, hang or exhaust memory. A parsed definition is
/// also rendered back to its canonical text and parsed again (the two must agree).
func fuzzDefinition(_ bytes: UnsafeRawBufferPointer) -> CInt {
    let count = bytes.count
    let source = String(decoding: bytes, as: UTF8.self)
    guard let definition = try? DefinitionParser.parse(source) else { return 0 }
    guard let again = try? DefinitionParser.parse(definition.canonicalContent) else {
        fatalError("a parsed definition's canonical text does not parse")
    }
    if Set(again.steps.map(\.name)) != Set(definition.steps.map(\.name)) {
        fatalError("the canonical text has other steps")
    }
    return 0
}

runFuzzer { input in _ = fuzzDefinition(input) }
