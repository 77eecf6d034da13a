import BatonCore
import BatonProto

extension ActivityFailure {
    /// The API's failure message, naming `step` when given (a `null` details value is left unset).
    public func proto(step: String? = nil) -> Baton_V1_Failure {
        Baton_V1_Failure.with {
            $0.type = type
            $0.message = message
            if details != .null { $0.details = details.proto }
            $0.nonRetryable = nonRetryable
            $0.step = step ?? ""
        }
    }

    /// The failure of an API or stored failure message (its `step` is not part of the failure).
    public init(proto failure: Baton_V1_Failure) {
        self.init(
            type: failure.type, message: failure.message,
            details: failure.hasDetails ? JSONValue(proto: failure.details) : .null, nonRetryable: failure.nonRetryable)
    }
}
