extension RPCStatusCode {
    /// The Connect protocol's name for the code, e.g. `not_found` (`canceled` for CANCELLED).
    public var connectName: String {
        self == .cancelled ? "canceled" : description.lowercased()
    }

    /// The HTTP status of a Connect unary error with this code (the Connect protocol's table).
    public var connectHTTPStatus: Int {
        switch self {
        case .cancelled: 499
        case .invalidArgument, .failedPrecondition, .outOfRange: 400
        case .deadlineExceeded: 504
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .permissionDenied: 403
        case .resourceExhausted: 429
        case .unimplemented: 501
        case .unavailable: 503
        case .unauthenticated: 401
        default: 500
        }
    }
}
