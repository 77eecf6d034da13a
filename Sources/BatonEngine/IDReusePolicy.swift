import BatonCore

/// What `startWorkflow` does when the requested workflow id already exists.
public enum IDReusePolicy: String, Hashable, Sendable, Codable {
    /// Return the existing run (idempotent start).
    case returnExisting = "return_existing"
    /// Fail with `.alreadyExists`.
    case reject
}
