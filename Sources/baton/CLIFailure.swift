import BatonRPC
import Foundation

/// A failure the CLI reports as one line on stderr (`baton: <what failed>: <status>: <message>`)
/// and an exit code (see `ExitStatus`).
struct CLIFailure: Error {
    /// The whole line after `baton: `.
    var line: String
    /// The process exit code.
    var exitCode: Int32

    /// `text` with control characters (C0, DEL, C1) shown as `\u{1b}`, so an echoed id cannot drive
    /// the terminal or split the one error line.
    static func escapingControlCharacters(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

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
        if rpc.code == .unavailable, let range = rpc.message.range(of: "TLS handshake with ") {
            // The server answered but its certificate was refused (or it refused ours): no retry helps.
            let reason = rpc.message[range.lowerBound...].replacingOccurrences(of: "\n", with: " ")
            return CLIFailure(line: "cannot reach \(address) over TLS: \(reason); check --tls-ca (the CA that signed "
                              + "the server's certificate), that the certificate names the host, and --tls-cert/--tls-key "
                              + "when the server asks for a client certificate", exitCode: ExitStatus.other)
        }
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
