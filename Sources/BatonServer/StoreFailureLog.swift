import BatonCore
import BatonEngine
import Logging
import Synchronization

/// Logs the history store's failed writes: the first at once, then at most one line per `interval`
/// saying how many more failed meanwhile, so a flood of failing requests cannot fill the disk with
/// log lines; and one line when writes succeed again.
final class StoreFailureLog: Sendable {
    private let logger: Logger
    private let throttle: Mutex<LogThrottle>

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        throttle = Mutex(LogThrottle(interval: interval))
    }

    /// Logs (or counts) one report of the store's health.
    func record(_ report: StoreHealth.Report) {
        switch report {
        case .failed(let error, let workflowID):
            guard let suppressed = throttle.withLock({ $0.admit() }) else { return }
            var metadata: Logger.Metadata = ["error_type": "\(error.code)", "error": "\(error.message)"]
            if let workflowID { metadata["workflow_id"] = "\(workflowID)" }
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            logger.error("""
                the history store refused a write: the caller got an error, nothing acknowledged is lost, \
                and runs retry their change until the store accepts it
                """, metadata: metadata)
        case .recovered:
            let suppressed = throttle.withLock { $0.reset() }
            logger.notice("the history store accepts writes again",
                          metadata: suppressed > 0 ? ["suppressed": "\(suppressed)"] : [:])
        }
    }
}
