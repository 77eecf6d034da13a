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

    private func validate(_ headers: [HTTP2Header], trailers: Bool = true) -> ServerRequestHead.Verdict {
        var wire = WireProtocol(family: .grpc, codec: .proto)
        if case .rpc(let detected) = WireProtocol.detect(method: headers.first(named: ":method") ?? "POST",
                                                         contentType: headers.first(named: "content-type")) {
            wire = detected
        }
        return ServerRequestHead.validate(headers, wire: &wire, router: router, supportsTrailers: trailers)
    }

    private func headers(path: String = "/pkg.Svc/Get", contentType: String = "application/grpc",
                         extra: [HTTP2Header] = []) -> [HTTP2Header] {
        [HTTP2Header(":method", "POST"), HTTP2Header(":path", path), HTTP2Header("content-type", contentType)] + extra
    }

    @Test func aKnownMethodIsAccepted() {
        guard case .accept(let head) = validate(
            headers(extra: [HTTP2Header("grpc-timeout", "2S"), HTTP2Header("x-a", "b")]))
        else { Issue.record("expected accept"); return }
        #expect(head.path == "/pkg.Svc/Get")
        #expect(head.timeout == .seconds(2))
        #expect(head.metadata["x-a"] == "b")
    }

    @Test func routingDistinguishesUnknownMethodsAndServices() {
        #expect(router.serviceNames == ["pkg.Svc"])
        guard case .rejectRPC(let method, _) = validate(headers(path: "/pkg.Svc/Nope")),
              case .rejectRPC(let service, _) = validate(headers(path: "/other.Svc/Get")),
              case .rejectRPC(let malformed, _) = validate(headers(path: "nonsense"))
        else { Issue.record("expected rejections"); return }
        #expect(method.code == .unimplemented && method.message.contains("'Nope'"))
        #expect(service.code == .unimplemented && service.message.contains("'other.Svc'"))
        #expect(malformed.code == .unimplemented)
    }

    @Test func contentTypesChooseTheProtocol() {
        #expect(WireProtocol.detect(method: "POST", contentType: "application/grpc")
            == .rpc(WireProtocol(family: .grpc, codec: .proto)))
        #expect(WireProtocol.detect(method: "POST", contentType: "application/grpc-web-text+proto")
            == .rpc(WireProtocol(family: .grpcWeb(text: true), codec: .proto)))
        #expect(WireProtocol.detect(method: "POST", contentType: "application/connect+json")
            == .rpc(WireProtocol(family: .connectStream, codec: .json)))
        #expect(WireProtocol.detect(method: "POST", contentType: "application/json; charset=utf-8")
            == .rpc(WireProtocol(family: .connectUnary, codec: .json)))
        #expect(WireProtocol.detect(method: "POST", contentType: "text/plain") == .notRPC)
        #expect(WireProtocol.detect(method: "POST", contentType: nil) == .notRPC)
        guard case .unsupported(let message) = WireProtocol.detect(method: "POST", contentType: "application/grpc+cbor")
        else { Issue.record("expected an unsupported format"); return }
        #expect(message.contains("application/grpc+cbor"))
    }

    @Test func gRPCOverHTTP1IsRefusedWithTheAlternatives() {
        guard case .rejectHTTP(let status, let message) = validate(headers(), trailers: false)
        else { Issue.record("expected HTTP rejection"); return }
        #expect(status == 415)
        #expect(message.contains("grpc-web") && message.contains("connect"))
    }

    @Test func connectUnaryOnAStreamingMethodIs415() {
        var streaming = router
        streaming.register("/pkg.Svc/Watch", .serverStreaming { (_: Grpc_Testing_Empty, _: RPCResponseWriter<Grpc_Testing_Empty>, _) in })
        var wire = WireProtocol(family: .connectUnary, codec: .json)
        guard case .rejectHTTP(let status, let message) = ServerRequestHead.validate(
            headers(path: "/pkg.Svc/Watch", contentType: "application/json"), wire: &wire, router: streaming,
            supportsTrailers: false)
        else { Issue.record("expected HTTP rejection"); return }
        #expect(status == 415 && message.contains("application/connect+json"))
    }

    @Test func connectGetNeedsASideEffectFreeMethodAndAnEncoding() {
        var readOnly = router
        readOnly.register("/pkg.Svc/Read", .unary { (request: Grpc_Testing_Empty, _) in request }.sideEffectFree())
        func get(_ target: String, in router: RPCRouter) -> ServerRequestHead.Verdict {
            var wire = WireProtocol(family: .connectUnary, codec: .json)
            return ServerRequestHead.validate([HTTP2Header(":method", "GET"), HTTP2Header(":path", target)],
                                              wire: &wire, router: router, supportsTrailers: false)
        }
        guard case .accept(let head) = get("/pkg.Svc/Read?encoding=json&message=%7B%7D", in: readOnly)
        else { Issue.record("expected accept"); return }
        #expect(head.queryMessage.map { String(buffer: $0) } == "{}")
        guard case .rejectRPC(let writes, _) = get("/pkg.Svc/Get?encoding=json&message=%7B%7D", in: readOnly),
              case .rejectHTTP(let status, let noEncoding) = get("/pkg.Svc/Read?message=%7B%7D", in: readOnly)
        else { Issue.record("expected rejections"); return }
        #expect(writes.code == .unimplemented && writes.message.contains("POST"))
        // An unknown or missing codec is 415, like an unknown content type.
        #expect(status == 415 && noEncoding.contains("encoding"))
    }

    @Test func aMalformedConnectTimeoutIsInvalidArgument() {
        guard case .rejectRPC(let error, _) = validate(
            headers(contentType: "application/json", extra: [HTTP2Header("connect-timeout-ms", "12345678901")]))
        else { Issue.record("expected rejection"); return }
        #expect(error.code == .invalidArgument && error.message.contains("connect-timeout-ms"))
    }

    @Test func anUnsupportedEncodingIsUnimplementedWithAcceptEncoding() {
        guard case .rejectRPC(let error, let trailers) = validate(
            headers(extra: [HTTP2Header("grpc-encoding", "br")]))
        else { Issue.record("expected rejection"); return }
        #expect(error.code == .unimplemented)
        #expect(trailers == [HTTP2Header("grpc-accept-encoding", "identity, gzip")])
    }

    @Test func gzipIsAcceptedInEveryProtocol() {
        // (Connect streams declare it in connect-content-encoding; the e2e suite sends one.)
        for (contentType, header) in [("application/grpc", "grpc-encoding"), ("application/grpc-web+proto", "grpc-encoding"),
                                      ("application/json", "content-encoding")] {
            guard case .accept(let head) = validate(headers(contentType: contentType, extra: [HTTP2Header(header, "gzip")]))
            else { Issue.record("expected accept for \(contentType)"); continue }
            #expect(head.gzip, "\(contentType)")
        }
    }

    @Test func aMalformedTimeoutIsInvalidArgument() {
        guard case .rejectRPC(let error, _) = validate(
            headers(extra: [HTTP2Header("grpc-timeout", "soon")]))
        else { Issue.record("expected rejection"); return }
        #expect(error.code == .invalidArgument)
    }

    @Test func statusCodesHaveCanonicalNames() {
        #expect(RPCStatusCode.resourceExhausted.description == "RESOURCE_EXHAUSTED")
        #expect(RPCStatusCode(rawValue: 99).description == "CODE_99")
    }
}
