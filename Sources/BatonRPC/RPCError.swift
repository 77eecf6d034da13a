/// A failed RPC: a status code, a message for the caller, metadata for the trailers, and the cause.
///
/// Handlers throw it to answer with a specific status; any other error becomes `UNKNOWN`.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    /// The gRPC status code.
    public var code: RPCStatusCode
    /// A message for the caller (sent percent-encoded as `grpc-message`).
    public var message: String
    /// Metadata sent in the trailers with the status.
    public var metadata: Metadata
    /// The underlying error, if any (not sent to the caller).
    public var cause: (any Error)?

    /// Creates an error.
    public init(code: RPCStatusCode, message: String, metadata: Metadata = Metadata(), cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.metadata = metadata
        self.cause = cause
    }

    /// `CODE: message`.
    public var description: String { "\(code): \(message)" }
}
