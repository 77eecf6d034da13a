import NIOConcurrencyHelpers

/// What a handler knows about its call, and the response metadata it may set.
public final class ServerCallContext: Sendable {
    /// The method path, e.g. `/grpc.testing.TestService/UnaryCall`.
    public let path: String
    /// Custom metadata the client sent with the request headers.
    public let requestMetadata: Metadata
    /// When the call's deadline (from `grpc-timeout`) passes, if it has one.
    public let deadline: ContinuousClock.Instant?
    /// The remote address, e.g. `[IPv4]127.0.0.1/127.0.0.1:51234`.
    public let peer: String
    /// Identifies the connection the call arrived on (equal for calls of one connection).
    public let connection: ObjectIdentifier
    /// Whether the connection's client has response bytes it has not read yet (read from any thread).
    public let clientHoldsUnreadResponses: @Sendable () -> Bool
    private let response = NIOLockedValueBox((initial: Metadata(), trailing: Metadata()))

    init(path: String, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: String,
         connection: ObjectIdentifier, clientHoldsUnreadResponses: @escaping @Sendable () -> Bool) {
        self.path = path
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
        self.connection = connection
        self.clientHoldsUnreadResponses = clientHoldsUnreadResponses
    }

    /// Metadata sent with the response headers (set before the first response message).
    public var initialMetadata: Metadata {
        get { response.withLockedValue { $0.initial } }
        set { response.withLockedValue { $0.initial = newValue } }
    }

    /// Metadata sent with the status in the trailers.
    public var trailingMetadata: Metadata {
        get { response.withLockedValue { $0.trailing } }
        set { response.withLockedValue { $0.trailing = newValue } }
    }
}
