import SwiftProtobuf

/// Protobuf's JSON mapping as Baton writes it everywhere (Connect JSON, event streams, the CLI's
/// `--json`): proto map keys in sorted order, and whole numbers without a fractional part (`7`, not
/// `7.0`: the same JSON number, as a person or a strict integer parser expects it). (Keys inside a
/// `google.protobuf.Struct` keep the library's order.)
public enum ProtoJSON {
    /// The JSON bytes of `message`.
    public static func bytes(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        let encoded: [UInt8] = try message.jsonUTF8Bytes(options: options)
        return wholeNumbersWithoutFraction(encoded)
    }

    /// The JSON text of `message`.
    public static func string(_ message: some SwiftProtobuf.Message) throws -> String {
        String(decoding: try bytes(message), as: UTF8.self)
    }

    /// `json` with every number token of the form `-?DIGITS.0` written as `-?DIGITS` (strings untouched).
    static func wholeNumbersWithoutFraction(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var index = 0
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        while index < json.count {
            let byte = json[index]
            if byte == quote {
                // Copy the string through its closing quote.
                out.append(byte)
                index += 1
                while index < json.count {
                    let inner = json[index]
                    out.append(inner)
                    index += 1
                    if inner == backslash, index < json.count {
                        out.append(json[index])
                        index += 1
                    } else if inner == quote {
                        break
                    }
                }
                continue
            }
            if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                var end = index + 1
                while end < json.count, Self.isNumberByte(json[end]) { end += 1 }
                let token = json[index..<end]
                if token.count >= 3, token.suffix(2).elementsEqual([UInt8(ascii: "."), UInt8(ascii: "0")]),
                   !token.contains(UInt8(ascii: "e")), !token.contains(UInt8(ascii: "E")),
                   token.dropLast(2).filter({ $0 == UInt8(ascii: ".") }).isEmpty {
                    out.append(contentsOf: token.dropLast(2))
                } else {
                    out.append(contentsOf: token)
                }
                index = end
                continue
            }
            out.append(byte)
            index += 1
        }
        return out
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
            || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
    }
}
