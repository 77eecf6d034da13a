import BatonServer
import Testing

/// `--otlp-endpoint` and the OTEL_EXPORTER_OTLP_* variables: base URLs get `/v1/traces`, a traces
/// URL is used as given, and what cannot work is refused with a message naming it.
@Suite(.timeLimit(.minutes(1))) struct OTLPEndpointTests {
    @Test func baseAndTracesURLs() throws {
        let base = try OTLPEndpoint(parsing: "http://collector:4318", appendingSignalPath: true)
        #expect(base == OTLPEndpoint(host: "collector", port: 4318, path: "/v1/traces"))
        #expect(try OTLPEndpoint(parsing: "http://127.0.0.1:9/otel/", appendingSignalPath: true).path == "/otel/v1/traces")
        #expect(try OTLPEndpoint(parsing: "http://[::1]:4000/x", appendingSignalPath: false)
            == OTLPEndpoint(host: "::1", port: 4000, path: "/x"))
        #expect(try OTLPEndpoint(parsing: "http://host", appendingSignalPath: false).description == "http://host:4318/")
    }

    @Test(arguments: [
        ("https://collector:4318", "https is not supported"), ("collector:4318", "give an http:// URL"),
        ("http://:4318", "no host"), ("http://host:0", "port must be 1 to 65535"),
        ("http://host:99999", "port must be 1 to 65535"), ("http://host:4318/v1?x=1", "no query"),
    ])
    func refusedWithTheReason(_ text: String, _ reason: String) {
        #expect {
            _ = try OTLPEndpoint(parsing: text, appendingSignalPath: true)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains(text)
        }
    }
}
