/// The error type of Baton's domain: a machine-readable code, a human-readable message and an
/// optional underlying cause. Transport layers map `code` to a gRPC status in one place.
public struct BatonError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Hashable, Sendable, Codable {
        /// A definition, input or argument is invalid (gRPC INVALID_ARGUMENT).
        case invalidArgument = "invalid_argument"
        /// A workflow or definition does not exist (gRPC NOT_FOUND).
        case notFound = "not_found"
        /// The entity already exists (gRPC ALREADY_EXISTS).
        case alreadyExists = "already_exists"
        /// The operation does not fit the current state, e.g. a signal to a closed workflow (FAILED_PRECONDITION).
        case failedPrecondition = "failed_precondition"
        /// The store failed (gRPC INTERNAL / UNAVAILABLE).
        case storage
        /// The runtime is shutting down or closed (gRPC UNAVAILABLE).
        case unavailable
        /// An invariant was broken (gRPC INTERNAL).
        case `internal`
        /// The caller went away (its call was cancelled) before the work was done (gRPC CANCELLED).
        case cancelled
        /// A resource ran out, e.g. the disk is full (gRPC RESOURCE_EXHAUSTED); retry once it is back.
        case resourceExhausted = "resource_exhausted"
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// A textual rendering of the underlying error, when there is one.
    public var cause: String?
    /// The underlying library's numeric error code, when there is one (for the SQLite store: the
    /// extended result code, e.g. 2067 for SQLITE_CONSTRAINT_UNIQUE). Classify failures by this, never by message text.
    public var underlyingCode: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, underlyingCode: Int? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { String(describing: $0) }
        self.underlyingCode = underlyingCode
    }

    /// `code: message (cause)`.
    public var description: String {
        "\(code.rawValue): \(message)" + (cause.map { " (cause: \($0))" } ?? "")
    }
}

extension BatonError.Code {
    /// Whether a commit failed in the store (disk full, I/O error, a broken write) rather than
    /// being refused for what it asked (the run was restored from the store after such a failure).
    public var isStoreFailure: Bool {
        self == .storage || self == .resourceExhausted || self == .unavailable || self == .internal
    }
}
