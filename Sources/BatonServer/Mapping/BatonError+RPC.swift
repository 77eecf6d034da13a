import BatonCore
import BatonRPC

extension BatonError {
    /// The one place domain errors become gRPC statuses (DESIGN §4).
    public var rpcError: RPCError {
        let status: RPCStatusCode
        switch code {
        case .invalidArgument: status = .invalidArgument
        case .notFound: status = .notFound
        case .alreadyExists: status = .alreadyExists
        case .failedPrecondition: status = .failedPrecondition
        case .storage: status = .internal
        case .unavailable: status = .unavailable
        case .internal: status = .internal
        case .cancelled: status = .cancelled
        case .resourceExhausted: status = .resourceExhausted
        }
        return RPCError(code: status, message: message, cause: self)
    }
}

/// Runs `body`, turning a `BatonError` into the matching `RPCError`.
func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as BatonError {
        throw error.rpcError
    }
}
