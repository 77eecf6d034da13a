import ArgumentParser
import BatonServer
import Foundation

/// `baton token hash`: the SHA-256 an auth file lists for a token (the file never holds the token).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Tools for --auth-file tokens.",
        subcommands: [TokenHashCommand.self]
    )
}

/// `baton token hash TOKEN` (or `-`: the token on standard input, kept out of the shell history).
struct TokenHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the SHA-256 of a token, for the sha256 field of an --auth-file entry."
    )

    @Argument(help: ArgumentHelp("The token, or - to read it from standard input (one line).", valueName: "token"))
    var token: String

    func run() throws {
        var text = token
        if token == "-" {
            guard let line = readLine(strippingNewline: true) else {
                throw ValidationError("token: standard input is empty")
            }
            text = line
        }
        guard !text.isEmpty else { throw ValidationError("token: empty (a token needs at least one character)") }
        print(Authenticator.digest(of: text))
    }
}
