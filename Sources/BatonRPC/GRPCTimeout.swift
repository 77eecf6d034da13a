/// The `grpc-timeout` header: 1 to 8 ASCII digits followed by a unit (H, M, S, m, u, n).
public enum GRPCTimeout {
    /// Parses a header value, or nil when it is malformed.
    public static func parse(_ value: String) -> Duration? {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, bytes.count <= 9 else { return nil }
        var amount: Int64 = 0
        for digit in bytes.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch bytes.last! {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }

    /// Encodes a duration with the finest unit that fits in 8 digits (rounding up).
    public static func encode(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanos = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        let units: [(Int64, Character)] = [
            (1, "n"), (1000, "u"), (1_000_000, "m"), (1_000_000_000, "S"), (60_000_000_000, "M"),
            (3_600_000_000_000, "H"),
        ]
        for (scale, unit) in units {
            let value = (nanos + scale - 1) / scale
            if value < 100_000_000 { return "\(value)\(unit)" }
        }
        return "99999999H"
    }
}
