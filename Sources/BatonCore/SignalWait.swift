/// Configuration of a `wait_for_signal` step.
public struct SignalWait: Hashable, Sendable {
    /// What happens when the wait times out.
    public enum OnTimeout: String, Hashable, Sendable, Codable {
        /// The step fails (and with it the workflow).
        case fail
        /// The workflow fails and compensates.
        case compensate
        /// The step completes with a `null` signal and dependents proceed.
        case `continue`
    }

    /// The signal name.
    public var name: String
    /// How long to wait; `nil` waits forever.
    public var timeout: Interval?
    /// What happens on timeout (default `fail`).
    public var onTimeout: OnTimeout

    /// Creates a signal wait.
    public init(name: String, timeout: Interval? = nil, onTimeout: OnTimeout = .fail) {
        self.name = name
        self.timeout = timeout
        self.onTimeout = onTimeout
    }
}
