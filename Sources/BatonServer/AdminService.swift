import BatonCore
import BatonEngine
import BatonProto
import BatonRPC
import Foundation
import SwiftProtobuf

/// `baton.v1.AdminService`: server information (and circuit breakers once the engine exposes them).
struct AdminService: Sendable {
    /// The service's fully-qualified name.
    static let name = "baton.v1.AdminService"
    /// The server's version string.
    static let version = "0.1.0"

    let runtime: WorkflowRuntime
    let configuration: ServerConfiguration
    let startedAt: Date
    let started = ContinuousClock.now

    /// Registers the service's methods.
    func register(into router: inout RPCRouter) {
        router.register("/\(Self.name)/GetServerInfo", .unary(serverInfo))
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
