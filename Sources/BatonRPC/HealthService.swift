import BatonProto

/// `grpc.health.v1.Health`: Check answers the current status (NOT_FOUND for an unknown service);
/// Watch streams the status, then each change.
public enum HealthService {
    /// The service's fully-qualified name.
    public static let name = "grpc.health.v1.Health"

    /// Registers Check and Watch, answering from `board`.
    public static func register(into router: inout RPCRouter, board: HealthStatusBoard) {
        router.register("/\(name)/Check", .unary { (request: Grpc_Health_V1_HealthCheckRequest, _) in
            guard let status = board.status(of: request.service) else {
                throw RPCError(code: .notFound, message: "unknown service '\(request.service)'")
            }
            return Grpc_Health_V1_HealthCheckResponse.with { $0.status = status }
        })
        router.register("/\(name)/Watch", .serverStreaming {
            (request: Grpc_Health_V1_HealthCheckRequest, writer: RPCResponseWriter<Grpc_Health_V1_HealthCheckResponse>, _) in
            var last: HealthStatusBoard.Status?
            for await status in board.watch(request.service) where status != last {
                last = status
                try await writer.write(.with { $0.status = status })
            }
        })
    }
}
