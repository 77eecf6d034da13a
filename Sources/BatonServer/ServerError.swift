/// An error of the server's composition (configuration, binding).
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Code: String, Sendable {
        /// A setting is malformed.
        case invalidConfiguration
        /// The listening socket could not be bound (e.g. the port is taken).
        case bindFailed
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do about it.
    public var message: String
    /// The underlying error.
    public var cause: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message.
    public var description: String { message }
}
