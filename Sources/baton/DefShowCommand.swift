import ArgumentParser

/// `baton def show NAME [--version N]`: prints a definition's source as registered.
struct DefShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a definition's source (the latest version unless --version is given)."
    )

    @Argument(help: "The definition's name.")
    var name: String

    @Option(name: .long, parsing: .unconditional, help: "The version (default: the latest).")
    var version: Int32?

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if let version, version < 1 { throw ValidationError("--version must be 1 or more (got \(version))") }
    }

    func run() async throws {
        let what = version.map { "def show \(name) version \($0)" } ?? "def show \(name)"
        let response = try await client.withClient { baton in
            try await client.call(what) { try await baton.getDefinition(name, version: version ?? 0) }
        }
        if client.json { return try Output.json(response) }
        Output.write(response.source.hasSuffix("\n") ? response.source : response.source + "\n")
    }
}
