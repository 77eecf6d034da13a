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

    /// The failure as a read carries it within `budget`: whole when its message and details fit, else
    /// with the details left out (`details_omitted`) and the message cut to ``ActivityFailure/omittedMessagePrefix`` bytes.
    public func proto(step: String? = nil, within budget: inout ValueBudget) -> Baton_V1_Failure {
        if budget.admit(size: message.utf8.count + details.compactSize) { return proto(step: step) }
        var failure = proto(step: step)
        failure.clearDetails()
        failure.message = Self.cut(message)
        failure.detailsOmitted = true
        return failure
    }

    /// The failure of an API or stored failure message (its `step` is not part of the failure).
    public init(proto failure: Baton_V1_Failure) {
        self.init(
            type: failure.type, message: failure.message,
            details: failure.hasDetails ? JSONValue(proto: failure.details) : .null, nonRetryable: failure.nonRetryable)
    }
}
