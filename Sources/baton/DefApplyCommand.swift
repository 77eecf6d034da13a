import ArgumentParser
import Foundation

/// `baton def apply FILE`: registers a definition from a YAML or JSON file (`-` reads stdin).
struct DefApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Register a definition from a YAML or JSON file.",
        discussion: "Changed content under an existing name becomes the next version; identical content keeps its version."
    )

    @Argument(help: ArgumentHelp("The definition file (YAML or JSON; - for stdin).", valueName: "file"))
    var file: String

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let source = try readSource()
        let response = try await client.withClient { baton in
            try await client.call("def apply \(file)") { try await baton.registerDefinition(source: source) }
        }
        if client.json { return try Output.json(response) }
        let ref = response.definition
        Output.line("registered \(ref.name) version \(ref.version)\(response.created ? "" : " (unchanged)")")
    }

    private func readSource() throws -> String {
        let data: Data?
        if file == "-" {
            data = Output.readStandardInput()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
                throw CLIFailure.usage("def apply: file '\(file)' does not exist")
            }
            guard !isDirectory.boolValue else { throw CLIFailure.usage("def apply: '\(file)' is a directory, not a file") }
            data = FileManager.default.contents(atPath: file)
        }
        guard let data else { throw CLIFailure.usage("def apply: cannot read '\(file)'") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure.usage("def apply: '\(file)' is not UTF-8 text")
        }
        return text
    }
}
