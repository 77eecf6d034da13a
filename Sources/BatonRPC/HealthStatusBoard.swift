import BatonProto
import NIOConcurrencyHelpers

/// The serving status of each service, for `grpc.health.v1.Health`, with watchers that hear every
/// change. The empty name `""` is the whole server.
public final class HealthStatusBoard: Sendable {
    /// A service's status.
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [String: [Int: AsyncStream<Status>.Continuation]] = [:]
        var nextWatcher = 0
    }

    private let state = NIOLockedValueBox(State())

    /// An empty board (every service unknown).
    public init() {}

    /// Sets `service`'s status and tells its watchers.
    public func set(_ service: String, _ status: Status) {
        let watchers = state.withLockedValue { state -> [AsyncStream<Status>.Continuation] in
            state.statuses[service] = status
            return Array((state.watchers[service] ?? [:]).values)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Sets every known service to NOT_SERVING (shutdown).
    public func setAllNotServing() {
        let names = state.withLockedValue { Array($0.statuses.keys) }
        for name in names { set(name, .notServing) }
    }

    /// The current status of `service`, nil when unknown.
    public func status(of service: String) -> Status? {
        state.withLockedValue { $0.statuses[service] }
    }

    /// The current status (SERVICE_UNKNOWN when unknown), then every change, until the watch ends.
    public func watch(_ service: String) -> AsyncStream<Status> {
        let (stream, continuation) = AsyncStream<Status>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = state.withLockedValue { state -> Int in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[service, default: [:]][id] = continuation
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLockedValue { _ = $0.watchers[service]?.removeValue(forKey: id) }
        }
        return stream
    }
}
