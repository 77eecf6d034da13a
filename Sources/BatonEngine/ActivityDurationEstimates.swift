import BatonCore
import Synchronization

/// The runtime's per-activity duration estimates: loaded from the store at recovery, updated after
/// every commit that completes an activity attempt (the store persists the same samples in that commit).
public final class ActivityDurationEstimates: Sendable {
    private let estimates = Mutex<[String: ActivityDurationEstimate]>([:])
    /// The estimate used for an activity never seen completing; `nil` (the default): none, so an ETA
    /// whose path has such an activity is unknown rather than a guess.
    public let defaultEstimate: Interval?

    /// Creates an empty set of estimates.
    public init(defaultEstimate: Interval? = nil) {
        self.defaultEstimate = defaultEstimate
    }

    /// Replaces every estimate (recovery).
    public func load(_ loaded: [String: ActivityDurationEstimate]) {
        estimates.withLock { $0 = loaded }
    }

    /// Folds `samples` in.
    public func record(_ samples: [ActivityDurationSample]) {
        guard !samples.isEmpty else { return }
        estimates.withLock { estimates in
            for sample in samples {
                estimates[sample.activity] = (estimates[sample.activity] ?? ActivityDurationEstimate(samples: 0, meanMilliseconds: 0))
                    .adding(sample.milliseconds)
            }
        }
    }

    /// The estimate of `activity`, or `nil` when none was learned.
    public func estimate(_ activity: String) -> ActivityDurationEstimate? {
        estimates.withLock { $0[activity] }
    }

    /// The expected duration of `activity`: the learned mean, else ``defaultEstimate``.
    public func expected(_ activity: String) -> Interval? {
        guard let estimate = estimate(activity) else { return defaultEstimate }
        return .milliseconds(Int64(estimate.meanMilliseconds.rounded()))
    }

    /// Every learned estimate.
    public func all() -> [String: ActivityDurationEstimate] {
        estimates.withLock { $0 }
    }
}
