/// A gRPC status code (the `grpc-status` trailer), as defined by gRPC's status code table.
public struct RPCStatusCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code carried on the wire.
    public var rawValue: Int
    /// Creates a code from its number (any number; unknown ones are kept as is).
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Success.
    public static let ok = Self(rawValue: 0)
    /// The operation was cancelled, typically by the caller.
    public static let cancelled = Self(rawValue: 1)
    /// Unknown error.
    public static let unknown = Self(rawValue: 2)
    /// The client specified an invalid argument.
    public static let invalidArgument = Self(rawValue: 3)
    /// The deadline expired before the operation could complete.
    public static let deadlineExceeded = Self(rawValue: 4)
    /// Some requested entity was not found.
    public static let notFound = Self(rawValue: 5)
    /// The entity that a client attempted to create already exists.
    public static let alreadyExists = Self(rawValue: 6)
    /// The caller does not have permission.
    public static let permissionDenied = Self(rawValue: 7)
    /// Some resource has been exhausted (e.g. message too large).
    public static let resourceExhausted = Self(rawValue: 8)
    /// The system is not in a state required for the operation.
    public static let failedPrecondition = Self(rawValue: 9)
    /// The operation was aborted.
    public static let aborted = Self(rawValue: 10)
    /// The operation was attempted past the valid range.
    public static let outOfRange = Self(rawValue: 11)
    /// The operation is not implemented or supported.
    public static let unimplemented = Self(rawValue: 12)
    /// Internal error.
    public static let `internal` = Self(rawValue: 13)
    /// The service is currently unavailable.
    public static let unavailable = Self(rawValue: 14)
    /// Unrecoverable data loss or corruption.
    public static let dataLoss = Self(rawValue: 15)
    /// The request does not have valid authentication credentials.
    public static let unauthenticated = Self(rawValue: 16)

    private static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// The canonical upper-case name, e.g. `NOT_FOUND`.
    public var description: String {
        rawValue >= 0 && rawValue < Self.names.count ? Self.names[rawValue] : "CODE_\(rawValue)"
    }
}
