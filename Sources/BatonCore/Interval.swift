/// A length of time with millisecond precision, written in definitions as `500ms`, `1s`, `5m`, `24h`, `1h30m`.
public struct Interval: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The length in milliseconds.
    public var milliseconds: Int64

    /// Creates an interval of `milliseconds`.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// An interval of `value` milliseconds.
    public static func milliseconds(_ value: Int64) -> Interval { Interval(milliseconds: value) }
    /// An interval of `value` seconds.
    public static func seconds(_ value: Int64) -> Interval { Interval(milliseconds: value * 1000) }
    /// An interval of `value` minutes.
    public static func minutes(_ value: Int64) -> Interval { Interval(milliseconds: value * 60_000) }
    /// An interval of `value` hours.
    public static func hours(_ value: Int64) -> Interval { Interval(milliseconds: value * 3_600_000) }
    /// No time at all.
    public static let zero = Interval(milliseconds: 0)

    /// Orders intervals by length.
    public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// Parses `500ms`, `1s`, `5m`, `24h`, `1h30m`, `2d` (units ms, s, m, h, d; a sequence of
    /// number-unit pairs, largest unit first, each unit at most once). Returns `nil` for anything else.
    public init?(parsing text: String) {
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        var total: Int64 = 0
        var lastRank = -1
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, digits.count <= 12, let number = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: { $0.isASCII && $0.isLetter })
            rest = rest.dropFirst(letters.count)
            guard let rank = units.firstIndex(where: { $0.0 == letters }), rank > lastRank else { return nil }
            lastRank = rank
            let (product, overflow) = number.multipliedReportingOverflow(by: units[rank].1)
            guard !overflow else { return nil }
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !sumOverflow else { return nil }
            total = sum
        }
        self.milliseconds = total
    }

    /// The shortest spelling that parses back to the same interval, e.g. `1h30m` or `500ms`.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds
        var out = milliseconds < 0 ? "-" : ""
        rest = abs(rest)
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000), ("ms", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    /// Encodes as a bare integer of milliseconds.
    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    /// Encodes as a bare integer of milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return view
    }
}
