import NIOSSL

/// TLS for clients (the CLI, the Swift client): the server's certificate is verified against the
/// system's roots, or only `caFile`'s; the host name (or IP address) must match it; a client
/// certificate is presented when `certificateFile` and `keyFile` are given (mutual TLS). ALPN: `h2`.
public struct ClientTLS: Sendable, Hashable {
    /// The CA (PEM) to trust instead of the system's roots.
    public var caFile: String?
    /// A client certificate (PEM).
    public var certificateFile: String?
    /// Its key (PEM).
    public var keyFile: String?

    /// TLS trusting `caFile` (the system's roots when nil), presenting a client certificate when given.
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The context, or an error naming the file that cannot be used (flags as the CLI spells them).
    public func makeContext() throws(TLSFileError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["h2"]
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            let roots = try TLSFileError.reading("--tls-ca", caFile) { try NIOSSLCertificate.fromPEMFile(caFile) }
            guard !roots.isEmpty else { throw TLSFileError(flag: "--tls-ca", path: caFile, reason: "it holds no PEM certificate") }
            configuration.trustRoots = .certificates(roots)
        }
        if let certificateFile, let keyFile {
            let chain = try TLSFileError.reading("--tls-cert", certificateFile) { try NIOSSLCertificate.fromPEMFile(certificateFile) }
            let key = try TLSFileError.reading("--tls-key", keyFile) { try NIOSSLPrivateKey(file: keyFile, format: .pem) }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(flag: keyFile != nil ? "--tls-key" : "--tls-ca", path: keyFile ?? caFile ?? "(system roots)",
                               reason: "it cannot be used: \(error)")
        }
    }
}
