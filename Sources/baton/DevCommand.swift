import ArgumentParser
import BatonCore
import BatonServer
import Foundation

/// `baton dev`: the server on a local SQLite file with the example definitions registered.
/// Restarting with the same `--data` resumes every open workflow.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a local server: SQLite history in --data, example definitions registered."
    )

    @OptionGroup var options: ServerOptions

    @Option(name: .long, help: "Directory of the SQLite history (created if missing).")
    var data: String = ".baton/dev"

    @Option(name: .long, help: "Directory of definitions (*.yaml, *.yml, *.json) to register at startup.")
    var examples: String = "examples"

    func run() async throws {
        let configuration = try options.configuration(data: data)
        let files = try Self.definitionFiles(in: examples)
        try await ServerRunner.run(configuration, shutdownGrace: options.shutdownGrace, logger: options.log.bootstrap()) { app in
            var registered: [String] = []
            for file in files {
                let source: String
                do {
                    source = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw ValidationError("cannot read \(file): \(error.localizedDescription)")
                }
                do throws(BatonError) {
                    let ref = try await app.runtime.register(source: source)
                    registered.append("\(ref.name)@\(ref.version)")
                } catch {
                    throw ValidationError("\(file): \(error.message)")
                }
            }
            let address = "\(configuration.listen.host):\(app.port)"
            let secure = configuration.tls != nil
            let lines = [
                "baton dev: web UI on \(secure ? "https" : "http")://\(address)/",
                "baton dev: API (gRPC, gRPC-Web, Connect) on \(address) — try: grpcurl "
                    + (secure ? "-cacert CA.pem" : "-plaintext") + " \(address) list",
                "baton dev: history in \(configuration.dataDirectory ?? "memory")/baton.sqlite",
                "baton dev: definitions: " + (registered.isEmpty ? "none (no files in \(examples))" : registered.joined(separator: ", ")),
            ]
            Output.serviceLine(lines.joined(separator: "\n"))
        }
    }

    /// The definition files in `directory`, sorted; an absent directory has none.
    static func definitionFiles(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw ValidationError("--examples: '\(directory)' is not a directory") }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            .sorted().map { (directory as NSString).appendingPathComponent($0) }
    }
}
