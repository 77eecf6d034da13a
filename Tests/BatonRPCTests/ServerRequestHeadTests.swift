import BatonHTTP2
import BatonProto
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(2))) struct ServerRequestHeadTests {
    private var router: RPCRouter {
        var router = RPCRouter()
        router.register("/pkg.Svc/Get", .unary { (request: Grpc_Testing_Empty, _) in request })
        return router
    }

    private func headers(path: String = "/pkg.Svc/Get", contentType: String = "application/grpc",
                         extra: [HTTP2Header] = []) -> [HTTP2Header] {
        [HTTP2Header(":method", "POST"), HTTP2Header(":path", path), HTTP2Header("content-type", contentType)] + extra
    }

    @Test func aKnownMethodIsAccepted() {
        guard case .accept(let head) = ServerRequestHead.validate(
            headers(extra: [HTTP2Header("grpc-timeout", "2S"), HTTP2Header("x-a", "b")]), router: router)
        else { Issue.record("expected accept"); return }
        #expect(head.path == "/pkg.Svc/Get")
        #expect(head.timeout == .seconds(2))
        #expect(head.metadata["x-a"] == "b")
    }

    @Test func routingDistinguishesUnknownMethodsAndServices() {
        #expect(router.serviceNames == ["pkg.Svc"])
        guard case .rejectRPC(let method, _) = ServerRequestHead.validate(headers(path: "/pkg.Svc/Nope"), router: router),
              case .rejectRPC(let service, _) = ServerRequestHead.validate(headers(path: "/other.Svc/Get"), router: router),
              case .rejectRPC(let malformed, _) = ServerRequestHead.validate(headers(path: "nonsense"), router: router)
        else { Issue.record("expected rejections"); return }
        #expect(method.code == .unimplemented && method.message.contains("'Nope'"))
        #expect(service.code == .unimplemented && service.message.contains("'other.Svc'"))
        #expect(malformed.code == .unimplemented)
    }

    @Test func aNonGRPCContentTypeIsHTTP415() {
        guard case .rejectHTTP(let status, let message) = ServerRequestHead.validate(
            headers(contentType: "application/json"), router: router)
        else { Issue.record("expected HTTP rejection"); return }
        #expect(status == 415)
        #expect(message.contains("application/json"))
    }

    @Test func anUnsupportedEncodingIsUnimplementedWithAcceptEncoding() {
        guard case .rejectRPC(let error, let trailers) = ServerRequestHead.validate(
            headers(extra: [HTTP2Header("grpc-encoding", "gzip")]), router: router)
        else { Issue.record("expected rejection"); return }
        #expect(error.code == .unimplemented)
        #expect(trailers == [HTTP2Header("grpc-accept-encoding", "identity")])
    }

    @Test func aMalformedTimeoutIsInvalidArgument() {
        guard case .rejectRPC(let error, _) = ServerRequestHead.validate(
            headers(extra: [HTTP2Header("grpc-timeout", "soon")]), router: router)
        else { Issue.record("expected rejection"); return }
        #expect(error.code == .invalidArgument)
    }

    @Test func statusCodesHaveCanonicalNames() {
        #expect(RPCStatusCode.resourceExhausted.description == "RESOURCE_EXHAUSTED")
        #expect(RPCStatusCode(rawValue: 99).description == "CODE_99")
    }
}
