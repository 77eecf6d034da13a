import BatonCore

/// Where attempts go: in-process Swift closures today, external task queues later, behind one protocol.
public protocol ActivityDispatcher: Sendable {
    /// Whether this dispatcher starts `activity` the moment it is dispatched (in-process execution).
    func startsOnDispatch(_ activity: String) -> Bool
    /// Runs (or enqueues) `task`; its outcome is reported through `reporter`, possibly much later.
    /// May be called again for the same attempt after a restart (same idempotency key).
    func dispatch(_ task: ActivityTask, reporter: ActivityReporter)
    /// Asks the executor of an attempt to stop; its result, if any, will be ignored.
    func cancel(_ task: AttemptRef, workflowID: String)
}
