/// A point in time with millisecond precision, counted from the Unix epoch.
///
/// The engine never reads the system time itself; instants come from an injected clock,
/// so tests drive time by hand.
public struct Instant: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// Creates an instant from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The Unix epoch.
    public static let epoch = Instant(millisecondsSinceEpoch: 0)

    /// Orders instants chronologically.
    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The instant `interval` later.
    public static func + (lhs: Instant, rhs: Interval) -> Instant {
        // Saturating: a far-future deadline from a huge configured interval stays far in the future.
        let (sum, overflow) = lhs.millisecondsSinceEpoch.addingReportingOverflow(rhs.milliseconds)
        return Instant(millisecondsSinceEpoch: overflow ? (rhs.milliseconds > 0 ? .max : .min) : sum)
    }

    /// The interval from `rhs` to `lhs`.
    public static func - (lhs: Instant, rhs: Instant) -> Interval {
        let (difference, overflow) = lhs.millisecondsSinceEpoch.subtractingReportingOverflow(rhs.millisecondsSinceEpoch)
        return Interval(milliseconds: overflow ? (rhs.millisecondsSinceEpoch < 0 ? .max : .min) : difference)
    }

    /// Milliseconds since the epoch, as text.
    public var description: String { "@\(millisecondsSinceEpoch)ms" }

    /// Encodes as a bare integer.
    public init(from decoder: any Decoder) throws {
        millisecondsSinceEpoch = try decoder.singleValueContainer().decode(Int64.self)
    }

    /// Encodes as a bare integer.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(millisecondsSinceEpoch)
    }
}
