import BatonCore

/// Names one attempt of one step.
public struct AttemptRef: Hashable, Sendable, Codable {
    /// The step.
    public var step: String
    /// The attempt number.
    public var attempt: Int

    /// Creates a reference.
    public init(step: String, attempt: Int) {
        self.step = step
        self.attempt = attempt
    }
}
