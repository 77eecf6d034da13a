import BatonHTTP2
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(1))) struct CORSPolicyTests {
    private let policy = CORSPolicy(allowedOrigins: ["http://app.example:3000"])

    private func head(_ method: String, origin: String?, preflight: Bool = false) -> [HTTP2Header] {
        var headers = [HTTP2Header(":method", method), HTTP2Header(":path", "/baton.v1.WorkflowService/StartWorkflow")]
        if let origin { headers.append(HTTP2Header("origin", origin)) }
        if preflight {
            headers += [HTTP2Header("access-control-request-method", "POST"),
                        HTTP2Header("access-control-request-headers", "content-type, connect-protocol-version")]
        }
        return headers
    }

    @Test func sameOriginAndUnknownOriginRequestsGetNoCORSHeaders() {
        #expect(policy.verdict(head("POST", origin: nil)) == .plain)
        #expect(policy.verdict(head("POST", origin: "http://evil.example")) == .plain)
        #expect(CORSPolicy().verdict(head("POST", origin: "http://app.example:3000")) == .plain)
    }

    @Test func anAllowedOriginIsEchoedWithTheHeadersItMayRead() {
        guard case .decorate(let extra) = policy.verdict(head("POST", origin: "http://app.example:3000"))
        else { Issue.record("expected CORS headers"); return }
        #expect(extra.first(named: "access-control-allow-origin") == "http://app.example:3000")
        #expect(extra.first(named: "vary") == "origin")
        #expect(extra.first(named: "access-control-expose-headers")?.contains("grpc-status") == true)
    }

    @Test func preflightsAreAnsweredOrRefused() {
        guard case .preflight(let status, let extra, _) = policy.verdict(
            head("OPTIONS", origin: "http://app.example:3000", preflight: true))
        else { Issue.record("expected a preflight answer"); return }
        #expect(status == 204)
        #expect(extra.first(named: "access-control-allow-methods") == "GET, POST")
        #expect(extra.first(named: "access-control-allow-headers") == "content-type, connect-protocol-version")
        guard case .preflight(let refused, _, let message) = policy.verdict(
            head("OPTIONS", origin: "http://evil.example", preflight: true))
        else { Issue.record("expected a refusal"); return }
        #expect(refused == 403 && message.contains("--cors-origin"))
        let any = CORSPolicy(allowedOrigins: ["*"])
        guard case .decorate(let echoed) = any.verdict(head("GET", origin: "https://other.example"))
        else { Issue.record("expected CORS headers for *"); return }
        #expect(echoed.first(named: "access-control-allow-origin") == "https://other.example")
    }
}
