import BatonCore

/// What `startWorkflow` does when the requested workflow id already exists.
public enum IDReusePolicy: String, Hashable, Sendable, Codable {
    /// Return the existing run, open or closed (idempotent start; the default).
    case returnExisting = "return_existing"
    /// Fail with `.alreadyExists`, open or closed.
    case reject
    /// Return the existing run while it is open; once it is closed, start a new run under the same id.
    /// The closed run is archived, not deleted: its row and history move to the id `ID/<startMs>-<lastEventID>`
    /// (readable with describe, history and listings under that id).
    case allowAfterClose = "allow_after_close"
}
