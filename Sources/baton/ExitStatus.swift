import BatonRPC

/// The CLI's exit codes (documented in `baton --help` and README.md).
enum ExitStatus {
    /// Success.
    static let success: Int32 = 0
    /// Anything not listed below.
    static let other: Int32 = 1
    /// Usage error or invalid argument (locally or INVALID_ARGUMENT from the server).
    static let usage: Int32 = 2
    /// The server is unreachable or answered UNAVAILABLE.
    static let unavailable: Int32 = 3
    /// NOT_FOUND: unknown workflow, definition or breaker.
    static let notFound: Int32 = 4
    /// FAILED_PRECONDITION or ALREADY_EXISTS (e.g. a signal to a closed workflow).
    static let precondition: Int32 = 5
    /// The watched workflow ended failed, cancelled, terminated or compensated.
    static let workflowUnsuccessful: Int32 = 6

    /// The exit code for a gRPC status.
    static func code(for status: RPCStatusCode) -> Int32 {
        switch status {
        case .invalidArgument: usage
        case .unavailable: unavailable
        case .notFound: notFound
        case .failedPrecondition, .alreadyExists: precondition
        default: other
        }
    }

    /// The text of the root command's discussion and README's table.
    static let help = """
        Exit codes:
          0  success
          1  any other error
          2  usage error or invalid argument (also INVALID_ARGUMENT from the server)
          3  server unreachable, or UNAVAILABLE
          4  NOT_FOUND (unknown workflow or definition)
          5  FAILED_PRECONDITION or ALREADY_EXISTS (e.g. a signal to a closed workflow)
          6  the watched workflow ended failed, cancelled, terminated or compensated
        """
}
