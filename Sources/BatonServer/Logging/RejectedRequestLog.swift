import BatonRPC
import Logging
import Synchronization

/// Logs requests the server refused — invalid arguments, limits hit, unknown methods, refused
/// credentials — as warnings, and requests that failed inside the server as errors, each with the
/// method, code, message and client; at most 10 lines per 10 seconds, the next line saying how
/// many were left out, so a flood of bad requests cannot fill the disk.
final class RejectedRequestLog: Sendable {
    private let logger: Logger
    private let throttle: Mutex<LogThrottle>

    init(logger: Logger, lines: Int = 10, interval: Duration = .seconds(10)) {
        self.logger = logger
        throttle = Mutex(LogThrottle(lines: lines, interval: interval))
    }

    /// Logs `call` when it was refused or failed inside the server.
    func record(_ call: FinishedCall) {
        let level: Logger.Level
        let message: Logger.Message
        switch call.code {
        case .invalidArgument, .resourceExhausted, .unimplemented, .unauthenticated, .permissionDenied, .outOfRange:
            (level, message) = (.warning, "rejected request")
        case .internal, .dataLoss, .unknown:
            (level, message) = (.error, "request failed inside the server")
        default:
            return
        }
        guard logger.logLevel <= level, let suppressed = throttle.withLock({ $0.admit() }) else { return }
        var metadata: Logger.Metadata = [
            "rpc": .string(call.method.isEmpty ? "unknown" : "\(call.service)/\(call.method)"),
            "code": .string(call.code.description), "error": .string(String(call.message.prefix(512))),
            "peer": .string(call.peer),
        ]
        if suppressed > 0 { metadata["suppressed"] = .stringConvertible(suppressed) }
        logger.log(level: level, message, metadata: metadata)
    }
}
