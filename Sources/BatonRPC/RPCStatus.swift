/// The final status of a call: code, message and trailing metadata.
public struct RPCStatus: Sendable, Equatable {
    /// The status code.
    public var code: RPCStatusCode
    /// The (decoded) status message.
    public var message: String

    /// Creates a status.
    public init(code: RPCStatusCode, message: String = "") {
        self.code = code
        self.message = message
    }

    /// Success with no message.
    public static let ok = RPCStatus(code: .ok)
}
