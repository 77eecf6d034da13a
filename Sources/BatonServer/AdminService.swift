import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import BatonRPC
import Foundation
import SwiftProtobuf

/// `baton.v1.AdminService`: circuit breakers (shared by every workflow) and server information.
public struct AdminService: Sendable {
    /// The service's fully-qualified name.
    static let name = "baton.v1.AdminService"
    /// The server's version string.
    public static let version = "0.1.0"

    let runtime: WorkflowRuntime
    let configuration: ServerConfiguration
    let startedAt: Date
    let started = ContinuousClock.now

    /// Registers the service's methods.
    func register(into router: inout RPCRouter) {
        router.register("/\(Self.name)/GetServerInfo", .unary(serverInfo).sideEffectFree())
        router.register("/\(Self.name)/ListCircuitBreakers", .unary(listBreakers).sideEffectFree())
        router.register("/\(Self.name)/ResetCircuitBreaker", .unary(resetBreaker))
    }

    func listBreakers(_ request: Baton_V1_ListCircuitBreakersRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_ListCircuitBreakersResponse {
        .with { $0.breakers = runtime.circuitBreakers().sorted { $0.key < $1.key }.map(\.proto) }
    }

    func resetBreaker(_ request: Baton_V1_ResetCircuitBreakerRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_ResetCircuitBreakerResponse {
        try Validate.name(request.key, field: "key")
        let status = try await mappingErrors { try await runtime.resetCircuitBreaker(request.key) }
        return .with { $0.breaker = status.proto }
    }

    func serverInfo(_ request: Baton_V1_GetServerInfoRequest, _ context: ServerCallContext) async throws
        -> Baton_V1_GetServerInfoResponse {
        let uptime = ContinuousClock.now - started
        return .with {
            $0.version = Self.version
            $0.uptime = Google_Protobuf_Duration(seconds: uptime.components.seconds,
                                                 nanos: Int32(uptime.components.attoseconds / 1_000_000_000))
            $0.storePath = configuration.dataDirectory.map { ($0 as NSString).appendingPathComponent("baton.sqlite") }
                ?? ":memory:"
            $0.durability = configuration.dataDirectory == nil ? "memory" : configuration.durability.rawValue
            $0.startTime = Google_Protobuf_Timestamp(date: startedAt)
        }
    }
}

extension CircuitBreakerStatus {
    /// The API's breaker message.
    var proto: Baton_V1_CircuitBreaker {
        Baton_V1_CircuitBreaker.with {
            $0.key = key
            $0.state = switch state {
            case .closed: .closed
            case .open: .open
            case .halfOpen: .halfOpen
            }
            $0.consecutiveFailures = Int32(consecutiveFailures)
            if let changedAt { $0.changedTime = changedAt.proto }
            if let halfOpenAt { $0.halfOpenTime = halfOpenAt.proto }
        }
    }
}
