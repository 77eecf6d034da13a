import BatonRPC
import Foundation

/// A failure the CLI reports as one line on stderr (`baton: <what failed>: <status>: <message>`)
/// and an exit code (see `ExitStatus`).
struct CLIFailure: Error {
    /// The whole line after `baton: `.
    var line: String
    /// The process exit code.
    var exitCode: Int32

    /// Bad local input (an option's value, an unreadable file): exit 2.
    static func usage(_ message: String) -> CLIFailure {
        CLIFailure(line: message, exitCode: ExitStatus.usage)
    }

    /// A failed call: `what` says what was attempted ("describe wf-1"), `address` where the server is.
    static func call(_ what: String, address: String, error: any Error) -> CLIFailure {
        if let failure = error as? CLIFailure { return failure }
        guard let rpc = error as? RPCError else {
            return CLIFailure(line: "\(what): \(error)", exitCode: ExitStatus.other)
        }
        let code = ExitStatus.code(for: rpc.code)
        if rpc.code == .unavailable, rpc.message.hasPrefix("cannot reach ") {
            return CLIFailure(line: "cannot reach \(address): is the server running? (baton server / scripts/dev)",
                              exitCode: code)
        }
        var message = rpc.message.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
        if rpc.code == .unimplemented {
            message += " (by the server at \(address))"
        }
        return CLIFailure(line: "\(what): \(rpc.code): \(message)", exitCode: code)
    }
}

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

extension ClientOptions {
    /// Runs one call; an error becomes a `CLIFailure` naming `what` was attempted.
    func call<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw CLIFailure.call(what, address: resolvedAddress, error: error)
        }
    }
}
