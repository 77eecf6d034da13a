/// How `baton server` runs.
public struct ServerConfiguration: Sendable {
    /// Where the API listens.
    public var listen = ListenAddress.default
    /// Mount `grpc.testing.TestService` (interop conformance; off by default).
    public var enableTestService = false
    /// How long a graceful shutdown lets in-flight calls run before closing them.
    public var shutdownGracePeriod: Duration = .seconds(10)

    /// The defaults.
    public init() {}
}
