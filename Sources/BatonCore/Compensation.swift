/// The compensating action of a step.
public struct Compensation: Hashable, Sendable {
    /// Activity to run.
    public var activity: String
    /// Its input; may read `${self.output...}`.
    public var input: Template
    /// Its retry policy.
    public var retry: RetryPolicy

    /// Creates a compensation.
    public init(activity: String, input: Template = .null, retry: RetryPolicy = RetryPolicy()) {
        self.activity = activity
        self.input = input
        self.retry = retry
    }
}
