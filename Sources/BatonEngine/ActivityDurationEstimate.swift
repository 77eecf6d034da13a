/// The learned duration of an activity: a running mean over its recent completed attempts
/// (an exponentially weighted mean once more than ``window`` samples were seen).
public struct ActivityDurationEstimate: Hashable, Sendable {
    /// Samples folded in.
    public var samples: Int
    /// The estimated duration in milliseconds.
    public var meanMilliseconds: Double

    /// The number of samples after which older ones weigh exponentially less.
    public static let window = 20

    /// Creates an estimate.
    public init(samples: Int, meanMilliseconds: Double) {
        self.samples = samples
        self.meanMilliseconds = meanMilliseconds
    }

    /// This estimate with `milliseconds` folded in: `mean += (x − mean) / min(samples + 1, window)`
    /// (the SQLite store applies the same formula in SQL).
    public func adding(_ milliseconds: Int64) -> ActivityDurationEstimate {
        let count = samples + 1
        let mean = meanMilliseconds + (Double(milliseconds) - meanMilliseconds) / Double(min(count, Self.window))
        return ActivityDurationEstimate(samples: count, meanMilliseconds: mean)
    }
}
