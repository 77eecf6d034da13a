import BatonCore
import Synchronization

/// Whether the history store accepts writes: every failed write is reported to an observer (the
/// server logs it, rate-limited), and so is the first success after failures.
public final class StoreHealth: Sendable {
    /// What the observer hears.
    public enum Report: Sendable {
        /// A write failed (disk full, I/O error, …); `workflowID` names the run whose change it carried.
        case failed(BatonError, workflowID: String?)
        /// A write succeeded after failures: the store accepts writes again.
        case recovered
    }

    private let failing = Atomic<Bool>(false)
    private let observer = Mutex<Callback<Report>?>(nil)

    /// A healthy store with no observer.
    public init() {}

    /// Sets the observer (replacing any earlier one).
    public func observe(_ body: @escaping @Sendable (Report) -> Void) {
        observer.withLock { $0 = Callback(body) }
    }

    /// Whether the last write failed.
    public var isFailing: Bool { failing.load(ordering: .relaxed) }

    /// Records a failed write.
    func failed(_ error: BatonError, workflowID: String?) {
        failing.store(true, ordering: .relaxed)
        let body = observer.withLock { $0 }
        body?.call(.failed(error, workflowID: workflowID))
    }

    /// Records a successful write (cheap when nothing failed before).
    func succeeded() {
        guard failing.load(ordering: .relaxed), failing.exchange(false, ordering: .relaxed) else { return }
        let body = observer.withLock { $0 }
        body?.call(.recovered)
    }
}
