import BatonCore
import BatonEngine
import Logging
import Synchronization

/// Logs the history store's failed writes: the first at once, then at most one line per `interval`
/// saying how many more failed meanwhile, so a flood of failing requests cannot fill the disk with
/// log lines; and one line when writes succeed again.
final class StoreFailureLog: Sendable {
    private struct State {
        var lastLogged: ContinuousClock.Instant?
        var suppressed = 0
    }

    private let logger: Logger
    private let interval: Duration
    private let state = Mutex(State())

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    /// Logs (or counts) one report of the store's health.
    func record(_ report: StoreHealth.Report) {
        switch report {
        case .failed(let error, let workflowID):
            let now = ContinuousClock.now
            let interval = self.interval
            let suppressed: Int? = state.withLock { state in
                if let last = state.lastLogged, now - last < interval {
                    state.suppressed += 1
                    return nil
                }
                defer { state.lastLogged = now; state.suppressed = 0 }
                return state.suppressed
            }
            guard let suppressed else { return }
            var metadata: Logger.Metadata = ["error_type": "\(error.code)", "error": "\(error.message)"]
            if let workflowID { metadata["workflow_id"] = "\(workflowID)" }
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            logger.error("""
                the history store refused a write: the caller got an error, nothing acknowledged is lost, \
                and runs retry their change until the store accepts it
                """, metadata: metadata)
        case .recovered:
            let suppressed = state.withLock { state in
                defer { state.lastLogged = nil; state.suppressed = 0 }
                return state.suppressed
            }
            logger.notice("the history store accepts writes again",
                          metadata: suppressed > 0 ? ["suppressed": "\(suppressed)"] : [:])
        }
    }
}
