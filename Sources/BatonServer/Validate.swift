import BatonCore
import BatonEngine
import BatonRPC

/// Checks of request fields; each error names the field and says what a valid value looks like.
enum Validate {
    /// A JSON value from a request: refused with INVALID_ARGUMENT naming `field` and the limit when it
    /// nests deeper or is larger than ``JSONValueLimits`` allow.
    static func value(_ value: JSONValue, field: String, limits: RuntimeLimits) throws(RPCError) {
        if let violation = value.limitViolation(field: field, maximumBytes: limits.payloadBytes, limitName: "payload_bytes") {
            throw RPCError(code: .invalidArgument, message: violation)
        }
    }

    /// A definition, signal or query name (``NameRule``: 1–200 characters, no control characters).
    static func name(_ value: String, field: String) throws(RPCError) {
        if let problem = NameRule.problem(value) {
            throw RPCError(code: .invalidArgument, message: "\(field): \(problem)")
        }
    }

    /// A failure message from a worker: at most ``ActivityFailure/maximumMessageBytes`` bytes of UTF-8.
    static func failureMessage(_ value: String, field: String) throws(RPCError) {
        let size = value.utf8.count
        guard size <= ActivityFailure.maximumMessageBytes else {
            throw RPCError(code: .invalidArgument, message: "\(field): \(size) bytes, over the limit of "
                           + "\(ActivityFailure.maximumMessageBytes) bytes (put large data in failure.details)")
        }
    }

    /// A workflow id: printable ASCII characters without spaces or '/' (an opaque string, never a
    /// path), at most `limits.workflowIDBytes` of them (`workflow_id_bytes`).
    static func workflowID(_ value: String, field: String = "workflow_id", limits: RuntimeLimits) throws(RPCError) {
        guard !value.isEmpty else { throw RPCError(code: .invalidArgument, message: "\(field): must not be empty") }
        // The length first: a huge id is refused without reading it.
        guard value.utf8.count <= limits.workflowIDBytes else {
            throw RPCError(code: .invalidArgument, message: "\(field): \(value.utf8.count) bytes, over the limit of "
                + "\(limits.workflowIDBytes) bytes (workflow_id_bytes)")
        }
        guard value.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: "/") }) else {
            throw RPCError(code: .invalidArgument,
                           message: "\(field): '\(NameRule.printable(value))' must be printable ASCII characters "
                               + "without spaces or '/'")
        }
    }
}
