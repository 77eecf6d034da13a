/// The limits every JSON value from outside must respect, enforced identically at every entry
/// (gRPC fields, definition literals, activity outputs, heartbeat details, signal payloads): what is
/// accepted is exactly what every codec — protobuf (stock clients decode 100 message levels, two per
/// JSON level), JSON and the store's encoding — reads back.
public enum JSONValueLimits {
    /// Levels of arrays and objects: `{}` and `[]` are 1 deep, `{"a": {}}` 2, a scalar 0.
    public static let maximumDepth = 32
    /// Bytes of the value's compact JSON text (``JSONValue/canonicalText``), by default (the
    /// server's `payload_bytes` limit can set another).
    public static let maximumBytes = 2 * 1024 * 1024
}

extension JSONValue {
    /// Nesting depth: arrays and objects count one level each; scalars are 0. Stops descending a
    /// little past `limit`, so a hostile value costs no more than needed to refuse it.
    public func depth(limit: Int = JSONValueLimits.maximumDepth) -> Int {
        var measure = LimitMeasure(depthLimit: limit, byteLimit: .max)
        measure.walk(self, level: 0)
        return measure.deepest
    }

    /// The first limit this value breaks, described with `field` and the limit (and the limit's
    /// configuration name `limitName`, when given); nil when it fits. One pass, no text built: it
    /// runs on every activity completion.
    public func limitViolation(field: String, maximumBytes: Int = JSONValueLimits.maximumBytes,
                               limitName: String? = nil) -> String? {
        var measure = LimitMeasure(depthLimit: JSONValueLimits.maximumDepth, byteLimit: maximumBytes)
        measure.walk(self, level: 0)
        if measure.deepest > JSONValueLimits.maximumDepth {
            return "\(field): the value nests more than \(JSONValueLimits.maximumDepth) levels of arrays and objects "
                + "(the limit is \(JSONValueLimits.maximumDepth))"
        }
        if measure.bytes > maximumBytes {
            let size = measure.stopped ? "more than \(maximumBytes)" : "\(measure.bytes)"
            return "\(field): the value is \(size) bytes of JSON, over the limit of \(maximumBytes) bytes"
                + (limitName.map { " (\($0))" } ?? "")
        }
        return nil
    }

    /// The length of this value's compact JSON (``canonicalText``), measured without building it.
    public var compactSize: Int {
        var measure = LimitMeasure(depthLimit: .max, byteLimit: .max)
        measure.walk(self, level: 0)
        return measure.bytes
    }

    /// Throws INVALID_ARGUMENT naming `field` and the limit when this value breaks one.
    public func checkLimits(field: String) throws(BatonError) {
        if let violation = limitViolation(field: field) { throw BatonError(.invalidArgument, violation) }
    }
}

/// Measures depth and the length of ``JSONValue/canonicalText`` in one walk, stopping at the limits.
private struct LimitMeasure {
    let depthLimit: Int
    let byteLimit: Int
    var deepest = 0
    var bytes = 0
    /// Whether the walk stopped early (a limit was already broken).
    var stopped = false

    mutating func walk(_ value: JSONValue, level: Int) {
        guard !stopped else { return }
        deepest = max(deepest, level)
        if deepest > depthLimit || bytes > byteLimit {
            stopped = true
            return
        }
        switch value {
        case .null: bytes += 4
        case .bool(let flag): bytes += flag ? 4 : 5
        case .number(let number): bytes += JSONValue.format(number).utf8.count
        case .string(let text): bytes += Self.quotedLength(text)
        case .array(let items):
            deepest = max(deepest, level + 1)
            bytes += 2 + max(0, items.count - 1)
            for item in items { walk(item, level: level + 1) }
        case .object(let members):
            deepest = max(deepest, level + 1)
            bytes += 2 + max(0, members.count - 1)
            for (key, member) in members {
                bytes += Self.quotedLength(key) + 1
                walk(member, level: level + 1)
            }
        }
    }

    /// The length of `text` as ``JSONValue/writeString(_:into:)`` writes it.
    static func quotedLength(_ text: String) -> Int {
        var length = 2
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\", "\n", "\r", "\t": length += 2
            default: length += scalar.value < 0x20 ? 6 : UTF8.width(scalar)
            }
        }
        return length
    }
}
