import NIOConcurrencyHelpers
import NIOSSL

/// TLS on the API port: a certificate chain and key, and for mutual TLS the CA clients' certificates
/// must chain to, read from PEM files; ALPN offers `h2` and `http/1.1` (gRPC, and browsers' pages
/// and Connect calls, on one port). ``reload()`` re-reads the files for connections made afterwards
/// (open connections keep theirs); a reload that fails keeps the previous certificate.
public final class ServerTLS: Sendable {
    /// Where the PEM files are.
    public struct Files: Sendable, Hashable {
        /// The server's certificate (a chain: leaf first).
        public var certificate: String
        /// The certificate's private key.
        public var key: String
        /// With it, clients must present a certificate signed by this CA (mutual TLS).
        public var clientCA: String?

        /// The files of a server certificate (and optionally a client CA).
        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// The files read at start and on every reload.
    public let files: Files
    private let context: NIOLockedValueBox<NIOSSLContext>

    /// Reads the files; throws naming the flag and file that cannot be used.
    public init(files: Files) throws(TLSFileError) {
        self.files = files
        context = NIOLockedValueBox(try Self.makeContext(files))
    }

    /// Whether clients must present a certificate.
    public var isMutual: Bool { files.clientCA != nil }

    /// Re-reads the files; on failure the previous certificate stays in use.
    public func reload() throws(TLSFileError) {
        let fresh = try Self.makeContext(files)
        context.withLockedValue { $0 = fresh }
    }

    /// The context for a connection accepted now.
    func currentContext() -> NIOSSLContext {
        context.withLockedValue { $0 }
    }

    static func makeContext(_ files: Files) throws(TLSFileError) -> NIOSSLContext {
        let chain = try TLSFileError.reading("--tls-cert", files.certificate) { try NIOSSLCertificate.fromPEMFile(files.certificate) }
        guard !chain.isEmpty else { throw TLSFileError(flag: "--tls-cert", path: files.certificate, reason: "it holds no PEM certificate") }
        let key = try TLSFileError.reading("--tls-key", files.key) { try NIOSSLPrivateKey(file: files.key, format: .pem) }
        var configuration: TLSConfiguration
        if let clientCA = files.clientCA {
            let roots = try TLSFileError.reading("--tls-client-ca", clientCA) { try NIOSSLCertificate.fromPEMFile(clientCA) }
            guard !roots.isEmpty else { throw TLSFileError(flag: "--tls-client-ca", path: clientCA, reason: "it holds no PEM certificate") }
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key), trustRoots: .certificates(roots))
            configuration.certificateVerification = .noHostnameVerification
        } else {
            configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        }
        configuration.applicationProtocols = ["h2", "http/1.1"]
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(flag: "--tls-key", path: files.key,
                               reason: "it cannot be used with the certificate in '\(files.certificate)' "
                                   + "(is it that certificate's key?): \(error)")
        }
    }
}

/// A TLS file that cannot be used: which flag, which file, why.
public struct TLSFileError: Error, CustomStringConvertible {
    /// The flag that named the file.
    public var flag: String
    /// The file.
    public var path: String
    /// What is wrong.
    public var reason: String

    /// `--tls-cert: cannot use '/etc/baton/cert.pem': …`.
    public var description: String { "\(flag): cannot use '\(path)': \(reason)" }

    static func reading<T>(_ flag: String, _ path: String, _ body: () throws -> T) throws(TLSFileError) -> T {
        do {
            return try body()
        } catch {
            throw TLSFileError(flag: flag, path: path, reason: "cannot read it as PEM (\(error))")
        }
    }
}
