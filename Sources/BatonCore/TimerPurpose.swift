/// Why a durable timer exists.
public enum TimerPurpose: Hashable, Sendable, Codable {
    /// Backoff before the next attempt of a step.
    case retryBackoff
    /// An activity timeout.
    case timeout(TimeoutKind)
    /// A `sleep` step.
    case sleep
    /// The timeout of a `wait_for_signal` step.
    case signalTimeout

    /// Stable short name used in timer ids.
    public var name: String {
        switch self {
        case .retryBackoff: return "backoff"
        case .timeout(let kind): return kind.rawValue
        case .sleep: return "sleep"
        case .signalTimeout: return "signal_timeout"
        }
    }

    /// The id of this timer for `step` and `attempt`; unique within a workflow.
    public func timerID(step: String, attempt: Int) -> String {
        "\(step)/\(attempt)/\(name)"
    }
}
