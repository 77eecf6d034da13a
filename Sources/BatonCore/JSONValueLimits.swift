/// The limits every JSON value from outside must respect, enforced identically at every entry
/// (gRPC fields, definition literals, activity outputs, heartbeat details, signal payloads): what is
/// accepted is exactly what every codec — protobuf (stock clients decode 100 message levels, two per
/// JSON level), JSON and the store's encoding — reads back.
public enum JSONValueLimits {
    /// Levels of arrays and objects: `{}` and `[]` are 1 deep, `{"a": {}}` 2, a scalar 0.
    public static let maximumDepth = 32
    /// Bytes of the value's compact JSON text (``JSONValue/canonicalText``).
    public static let maximumBytes = 1_048_576
}

extension JSONValue {
    /// Nesting depth: arrays and objects count one level each; scalars are 0. Stops counting a
    /// little past `limit`, so a hostile value costs no more than needed to refuse it.
    public func depth(limit: Int = JSONValueLimits.maximumDepth) -> Int {
        var deepest = 0
        var stack: [(JSONValue, Int)] = [(self, 0)]
        while let (value, level) = stack.popLast() {
            switch value {
            case .array(let items):
                deepest = max(deepest, level + 1)
                if level + 1 <= limit { stack.append(contentsOf: items.map { ($0, level + 1) }) }
            case .object(let members):
                deepest = max(deepest, level + 1)
                if level + 1 <= limit { stack.append(contentsOf: members.values.map { ($0, level + 1) }) }
            default:
                deepest = max(deepest, level)
            }
        }
        return deepest
    }

    /// The first limit this value breaks, described with `field` and the limit; nil when it fits.
    public func limitViolation(field: String) -> String? {
        let depth = depth()
        if depth > JSONValueLimits.maximumDepth {
            return "\(field): the value nests more than \(JSONValueLimits.maximumDepth) levels of arrays and objects "
                + "(the limit is \(JSONValueLimits.maximumDepth))"
        }
        let bytes = canonicalText.utf8.count
        if bytes > JSONValueLimits.maximumBytes {
            return "\(field): the value is \(bytes) bytes of JSON, over the limit of \(JSONValueLimits.maximumBytes) bytes"
        }
        return nil
    }

    /// Throws INVALID_ARGUMENT naming `field` and the limit when this value breaks one.
    public func checkLimits(field: String) throws(BatonError) {
        if let violation = limitViolation(field: field) { throw BatonError(.invalidArgument, violation) }
    }
}
