import ArgumentParser
import BatonHTTP2
import BatonServer
import BatonStore
import Dispatch
import Foundation
import Logging
import NIOPosix

/// `baton server`: runs the API server until SIGINT/SIGTERM (graceful), a second signal forces close.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the Baton server (gRPC, gRPC-Web, Connect, Server-Sent Events and the web UI on one port)."
    )

    @OptionGroup var options: ServerOptions

    @Option(name: .long, help: ArgumentHelp(
        "Directory of the SQLite history, created if missing (default: $BATON_DATA, else .baton).", valueName: "dir"))
    var data: String?

    func run() async throws {
        let configuration = try options.configuration(
            data: data ?? ProcessInfo.processInfo.environment["BATON_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? ".baton")
        try await ServerRunner.run(configuration, shutdownGrace: options.shutdownGrace, logger: options.log.bootstrap()) { _ in }
    }
}

/// The options `baton server` and `baton dev` share.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Address to listen on, HOST:PORT (port 0: pick a free one).")
    var listen: String = ListenAddress.default.description

    @Flag(name: .long, help: "Mount grpc.testing.TestService (interop conformance tests).")
    var enableTestService = false

    @Option(name: .long, parsing: .unconditional, help: "Seconds in-flight calls get to finish on shutdown.")
    var shutdownGrace: Int = 10

    @Option(name: .long, help: "full (an acknowledged call survives power loss) or normal (faster).")
    var durability: String = "full"

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Response MiB all clients together may leave unread before more responses are refused.", valueName: "mib"))
    var maxUnreadResponseMib: Int = 256

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Response MiB one connection may leave unread before more responses are refused.", valueName: "mib"))
    var maxUnreadResponseMibPerConnection: Int = 32

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "An origin (scheme://host[:port]) whose pages may call the API from a browser (repeatable; * for any).",
        valueName: "origin"))
    var corsOrigin: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "YAML file of accepted tokens (name, sha256, role, task_queues); without it every caller may do everything.",
        valueName: "file"))
    var authFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Serve TLS only (ALPN h2 and http/1.1) with this PEM certificate chain; needs --tls-key. Reloaded on SIGHUP.",
        valueName: "file"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .long, help: ArgumentHelp(
        "Mutual TLS: clients must present a certificate signed by this PEM CA (needs --tls-cert and --tls-key).",
        valueName: "file"))
    var tlsClientCa: String?

    @Option(name: .long, help: ArgumentHelp(
        "Export traces over OTLP/HTTP to this collector base URL; spans go to URL/v1/traces "
        + "(default: $OTEL_EXPORTER_OTLP_ENDPOINT; $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given).",
        valueName: "url"))
    var otlpEndpoint: String?

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Set a limit (repeatable): " + ServerLimit.allCases.map(\.rawValue).joined(separator: ", ")
            + "; see the README's Limits table for defaults and errors.",
        valueName: "name=value"))
    var limit: [String] = []

    @OptionGroup var log: LogOptions

    /// The validated configuration, with the history in `data`.
    func configuration(data: String) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        do {
            configuration.listen = try ListenAddress(parsing: listen)
        } catch {
            throw ValidationError("--listen: \(error.message)")
        }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be 0 or more seconds") }
        guard let durabilityLevel = Durability(rawValue: durability) else {
            throw ValidationError("--durability must be full or normal, got '\(durability)'")
        }
        let mebibytes = 1024 * 1024
        guard (1...1_048_576).contains(maxUnreadResponseMib) else {
            throw ValidationError("--max-unread-response-mib must be 1 to 1048576, got \(maxUnreadResponseMib)")
        }
        guard (1...maxUnreadResponseMib).contains(maxUnreadResponseMibPerConnection) else {
            throw ValidationError("--max-unread-response-mib-per-connection must be 1 to --max-unread-response-mib "
                                  + "(\(maxUnreadResponseMib)), got \(maxUnreadResponseMibPerConnection)")
        }
        configuration.maxUnreadResponseBytes = maxUnreadResponseMib * mebibytes
        configuration.maxUnreadResponseBytesPerConnection = maxUnreadResponseMibPerConnection * mebibytes
        guard !data.isEmpty else { throw ValidationError("--data must name a directory") }
        configuration.dataDirectory = data
        configuration.durability = durabilityLevel
        configuration.enableTestService = enableTestService
        for origin in corsOrigin where origin != "*" {
            let parts = origin.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "http:" || parts[0] == "https:", parts[1].isEmpty, !parts[2].isEmpty
            else {
                throw ValidationError("--cors-origin: '\(origin)' is not an origin; give scheme://host[:port] "
                                      + "(no path), e.g. http://localhost:3000, or *")
            }
        }
        configuration.corsOrigins = corsOrigin
        configuration.shutdownGracePeriod = .seconds(shutdownGrace)
        configuration.otlpEndpoint = try resolvedOTLPEndpoint()
        for assignment in limit {
            do {
                try ServerLimit.apply(assignment, to: &configuration)
            } catch {
                throw ValidationError(error.message)
            }
        }
        if let authFile {
            do {
                configuration.auth = try AuthFile(path: authFile)
            } catch {
                throw ValidationError(error.description)
            }
        }
        switch (tlsCert, tlsKey) {
        case (let certificate?, let key?):
            configuration.tls = ServerTLS.Files(certificate: certificate, key: key, clientCA: tlsClientCa)
        case (nil, nil):
            if tlsClientCa != nil {
                throw ValidationError("--tls-client-ca needs TLS: give --tls-cert and --tls-key too")
            }
        case (_?, nil):
            throw ValidationError("--tls-cert needs --tls-key (the certificate's private key)")
        case (nil, _?):
            throw ValidationError("--tls-key needs --tls-cert (the certificate it belongs to)")
        }
        return configuration
    }
}

extension ServerOptions {
    /// The traces endpoint: `--otlp-endpoint`, else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (as given),
    /// else `OTEL_EXPORTER_OTLP_ENDPOINT` (base URL); nil when none is set.
    func resolvedOTLPEndpoint() throws -> OTLPEndpoint? {
        let environment = ProcessInfo.processInfo.environment
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let (source, text, base): (String, String, Bool)
        if let otlpEndpoint {
            (source, text, base) = ("--otlp-endpoint", otlpEndpoint, true)
        } else if let traces = nonEmpty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            (source, text, base) = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces, false)
        } else if let all = nonEmpty("OTEL_EXPORTER_OTLP_ENDPOINT") {
            (source, text, base) = ("OTEL_EXPORTER_OTLP_ENDPOINT", all, true)
        } else {
            return nil
        }
        do {
            return try OTLPEndpoint(parsing: text, appendingSignalPath: base)
        } catch {
            throw ValidationError("\(source): \(error.message)")
        }
    }
}

/// Starts the server, prints where it listens, runs `started`, then waits for SIGINT/SIGTERM and shuts
/// down gracefully (a second signal forces the connections closed).
enum ServerRunner {
    static func run(_ configuration: ServerConfiguration, shutdownGrace: Int, logger: Logger,
                    started: (ServerApplication) async throws -> Void) async throws {
        let signals = ShutdownSignals()
        let app: ServerApplication
        logger.info("starting", metadata: [
            "version": .string(AdminService.version), "listen": .string("\(configuration.listen)"),
            "data": .string(configuration.dataDirectory ?? "memory"), "durability": .string("\(configuration.durability)"),
            "shutdown_grace_s": .stringConvertible(shutdownGrace),
            "max_unread_response_mib": .stringConvertible(configuration.maxUnreadResponseBytes / (1024 * 1024)),
            "cors_origins": .array(configuration.corsOrigins.map { .string($0) }),
            "otlp_endpoint": .string(configuration.otlpEndpoint.map { "\($0)" } ?? "off"),
            "tls": .string(configuration.tls == nil ? "off" : configuration.tls?.clientCA == nil ? "on" : "mutual"),
            "auth": .string(configuration.auth == nil ? "off" : "tokens"),
        ])
        if configuration.auth == nil {
            logger.warning(
                "no --auth-file: every caller may start, read, signal and terminate every run; give --auth-file (and TLS) before others can reach the port")
        } else {
            logger.info("tokens accepted", metadata: [
                "tokens": .array(configuration.auth!.tokens.map { .string("\($0.name) (\($0.role.rawValue))") }),
            ])
        }
        do {
            app = try await ServerApplication.start(configuration, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } catch {
            Output.errorLine("baton: \(error.message)")
            throw ExitCode(2)
        }
        let bound = ListenAddress(host: configuration.listen.host, port: app.port)
        Output.serviceLine("baton: listening on \(bound)")
        do {
            try await started(app)
        } catch {
            Output.errorLine("baton: \(error)")
            await app.shutdown()
            throw ExitCode(2)
        }

        let reloads = Task {
            for await _ in signals.reloads {
                do {
                    try app.reloadTLS()
                    if app.tls != nil { logger.notice("TLS certificate reloaded; new connections use it") }
                } catch {
                    logger.error("TLS reload failed; the previous certificate stays in use",
                                 metadata: ["error": .string("\(error)")])
                }
            }
        }
        defer { reloads.cancel() }
        var iterator = signals.events.makeAsyncIterator()
        _ = await iterator.next()
        logger.notice("shutting down: in-flight calls get the grace period; signal again to force",
                      metadata: ["shutdown_grace_s": .stringConvertible(shutdownGrace)])
        let forceTask = Task {
            if await iterator.next() != nil { app.forceClose() }
        }
        await app.shutdown()
        forceTask.cancel()
        logger.notice("stopped")
    }
}

/// SIGINT and SIGTERM (shutdown) and SIGHUP (reload the TLS files) as async sequences (the default
/// actions are disabled).
final class ShutdownSignals {
    let events: AsyncStream<Int32>
    let reloads: AsyncStream<Void>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let (reloads, reload) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        events = stream
        self.reloads = reloads
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGHUP { reload.yield() } else { continuation.yield(number) }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }
}
