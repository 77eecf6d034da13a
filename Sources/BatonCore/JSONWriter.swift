/// A small, fast JSON writer producing exactly what Swift's synthesized `Codable` + `JSONDecoder`
/// expect, used by the store codecs on the hot path (Foundation's `JSONEncoder` cost ~40% of a
/// commit's CPU time).
public struct JSONWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// Creates a writer, optionally starting with `prefix` bytes (e.g. a format version).
    public init(prefix: [UInt8] = [], capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: prefix)
    }

    /// Writes `{`, runs `body` for the members, writes `}`.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `[`, runs `body` for the elements, writes `]`.
    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member key; the next value written is its value.
    public mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a string value.
    public mutating func string(_ value: String) {
        separate()
        appendString(value)
        needsComma = true
    }

    /// Writes an integer value.
    public mutating func integer<T: BinaryInteger>(_ value: T) {
        separate()
        guard let number = Int64(exactly: value) else {
            bytes.append(contentsOf: String(value).utf8)
            needsComma = true
            return
        }
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
        needsComma = true
    }

    /// Writes a Boolean value.
    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// Writes a JSON value (integral numbers without a fraction; non-finite numbers as `null`).
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number):
            separate()
            bytes.append(contentsOf: JSONValue.format(number).utf8)
            needsComma = true
        case .string(let text): string(text)
        case .array(let items): array { writer in for item in items { writer.value(item) } }
        case .object(let members):
            object { writer in
                for (name, member) in members {
                    writer.key(name)
                    writer.value(member)
                }
            }
        }
    }

    /// Writes `"name": value` for an optional value, omitting it when `nil` (like `encodeIfPresent`).
    public mutating func member<T>(_ name: String, _ value: T?, _ write: (inout JSONWriter, T) -> Void) {
        guard let value else { return }
        key(name)
        write(&self, value)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        let plain = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            guard !buffer.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                return false
            }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// Writes an ``ActivityFailure`` as its synthesized `Codable` form.
    public mutating func failure(_ failure: ActivityFailure) {
        object { writer in
            writer.key("type"); writer.string(failure.type)
            writer.key("message"); writer.string(failure.message)
            writer.key("details"); writer.value(failure.details)
            writer.key("nonRetryable"); writer.bool(failure.nonRetryable)
        }
    }

    /// Writes an ``Instant`` (a bare integer).
    public mutating func instant(_ instant: Instant) {
        integer(instant.millisecondsSinceEpoch)
    }

    /// Writes a ``TimerPurpose`` as its synthesized `Codable` form.
    public mutating func purpose(_ purpose: TimerPurpose) {
        object { writer in
            switch purpose {
            case .retryBackoff: writer.key("retryBackoff"); writer.object { _ in }
            case .timeout(let kind):
                writer.key("timeout")
                writer.object { inner in inner.key("_0"); inner.string(kind.rawValue) }
            case .sleep: writer.key("sleep"); writer.object { _ in }
            case .signalTimeout: writer.key("signalTimeout"); writer.object { _ in }
            }
        }
    }
}
