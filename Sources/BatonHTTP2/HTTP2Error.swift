import CNGHTTP2

/// An error of the HTTP/2 layer: a code, a message and, where nghttp2 reported it, its error.
public struct HTTP2Error: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Code: String, Sendable {
        /// The peer violated HTTP/2 or nghttp2 refused an operation.
        case protocolError
        /// The connection is closed or closing.
        case connectionClosed
        /// A stream could not be opened.
        case refusedStream
        /// The stream was reset by the peer.
        case streamReset
        /// The connection could not be established.
        case connectFailed
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The underlying cause, if any.
    public var cause: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// Creates an error carrying nghttp2's description of `nghttp2` (a negative error code).
    init(_ code: Code, _ message: String, nghttp2: Int32) {
        let detail = String(cString: nghttp2_strerror(nghttp2))
        self.init(code, "\(message): \(detail)")
    }

    /// The message, prefixed with the code.
    public var description: String { "\(code.rawValue): \(message)" }
}
