import BatonCore
import CFuzzerDriver
import Glibc

/// libFuzzer entry: any bytes as a definition source (YAML or JSON). Parsing either succeeds or
/// throws a DefinitionError; it must never crash, hang or exhaust memory. A parsed definition is
/// also rendered back to its canonical text and parsed again (the two must agree).
func fuzzDefinition(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let source = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let definition = try? DefinitionParser.parse(source) else { return 0 }
    guard let again = try? DefinitionParser.parse(definition.canonicalContent) else {
        fatalError("a parsed definition's canonical text does not parse")
    }
    if Set(again.steps.map(\.name)) != Set(definition.steps.map(\.name)) {
        fatalError("the canonical text has other steps")
    }
    return 0
}

var arguments = CommandLine.argc
var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&arguments, &values) { data, size in
    guard let data else { return 0 }
    return fuzzDefinition(UnsafeRawPointer(data), size)
})
