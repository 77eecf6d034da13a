import ArgumentParser
import BatonClient
import BatonHTTP2
import Foundation
import NIOSSL

/// Options shared by every client subcommand: where the server is and how to print answers.
///
/// ```
/// baton describe wf-1 --address 10.0.0.5:7400 --json
/// BATON_ADDRESS=10.0.0.5:7400 baton list
/// ```
struct ClientOptions: ParsableArguments {
    /// The address used when neither `--address` nor `BATON_ADDRESS` is given.
    static let defaultAddress = "127.0.0.1:7400"

    @Option(name: .long, help: ArgumentHelp(
        "The server, HOST:PORT (default: $BATON_ADDRESS, else \(ClientOptions.defaultAddress)).",
        valueName: "host:port"))
    var address: String?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp(
        "Output format: table (text, the default), json (indented), jsonl (one JSON document per line).",
        valueName: "format"))
    var output: OutputFormat?

    @Flag(name: .customLong("json"), help: "The same as -o jsonl.")
    var jsonLines = false

    @Option(name: .long, help: ArgumentHelp(
        "Send this token (authorization: Bearer) with every call (default: $BATON_TOKEN).", valueName: "token"))
    var token: String?

    @Flag(name: .long, help: "Connect with TLS, trusting the system's roots (implied by --tls-ca and BATON_TLS_CA).")
    var tls = false

    @Option(name: .long, help: ArgumentHelp(
        "Connect with TLS trusting this PEM CA (default: $BATON_TLS_CA).", valueName: "file"))
    var tlsCa: String?

    @Option(name: .long, help: ArgumentHelp(
        "A client certificate (PEM) for mutual TLS (default: $BATON_TLS_CERT); needs --tls-key.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp(
        "The client certificate's PEM key (default: $BATON_TLS_KEY).", valueName: "file"))
    var tlsKey: String?

    /// The chosen output format (`--json` is `jsonl`).
    var format: OutputFormat { output ?? (jsonLines ? .jsonl : .table) }

    /// Whether responses are printed as JSON (protobuf's JSON mapping) rather than text.
    var json: Bool { format != .table }

    func validate() throws {
        if jsonLines, let output, output != .jsonl {
            throw ValidationError("--json is -o jsonl; it cannot be combined with -o \(output.rawValue)")
        }
        _ = try clientTLS()
    }

    /// TLS settings from the flags, then `BATON_TLS_CA`, `BATON_TLS_CERT`, `BATON_TLS_KEY`; nil for cleartext.
    func clientTLS() throws -> ClientTLS? {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        let ca = setting(tlsCa, "BATON_TLS_CA")
        let certificate = setting(tlsCert, "BATON_TLS_CERT")
        let key = setting(tlsKey, "BATON_TLS_KEY")
        if (certificate == nil) != (key == nil) {
            throw ValidationError(certificate == nil ? "--tls-key needs --tls-cert (the client certificate it belongs to)"
                                                     : "--tls-cert needs --tls-key (the client certificate's key)")
        }
        guard tls || ca != nil || certificate != nil else { return nil }
        return ClientTLS(caFile: ca, certificateFile: certificate, keyFile: key)
    }

    /// The address to dial: `--address`, then `BATON_ADDRESS`, then the default.
    var resolvedAddress: String {
        if let address { return address }
        if let env = ProcessInfo.processInfo.environment["BATON_ADDRESS"], !env.isEmpty { return env }
        return Self.defaultAddress
    }

    /// Splits HOST:PORT (`[v6]:PORT` too); a malformed address is a usage error naming the option.
    func endpoint() throws -> (host: String, port: Int) {
        let text = resolvedAddress
        let source = address != nil ? "--address" : "BATON_ADDRESS"
        guard let colon = text.lastIndex(of: ":") else {
            throw CLIFailure.usage("\(source): expected HOST:PORT, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw CLIFailure.usage("\(source): expected HOST:PORT with a port from 1 to 65535, got '\(text)'")
        }
        return (host, port)
    }

    /// Runs `body` with a client for the resolved address, closing it afterwards.
    func withClient<T>(_ body: (BatonClient) async throws -> T) async throws -> T {
        let (host, port) = try endpoint()
        Output.indentJSON.store(format == .json, ordering: .relaxed)
        let context: NIOSSLContext?
        do {
            context = try clientTLS()?.makeContext()
        } catch let error as TLSFileError {
            throw CLIFailure.usage(error.description)
        }
        let token = self.token ?? ProcessInfo.processInfo.environment["BATON_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let client = BatonClient(host: host, port: port, tls: context, token: token)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
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
