import BatonHTTP2
import BatonProto
import NIOCore
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(2))) struct WireProtocolTests {
    private let grpcWeb = WireProtocol(family: .grpcWeb(text: false), codec: .proto)
    private let grpcWebText = WireProtocol(family: .grpcWeb(text: true), codec: .proto)
    private let connectStream = WireProtocol(family: .connectStream, codec: .json)
    private let connectUnary = WireProtocol(family: .connectUnary, codec: .json)

    @Test func messagesAreEnvelopedExceptConnectUnary() {
        let framed = grpcWeb.frame(ByteBuffer(bytes: [1, 2, 3]))
        #expect(Array(framed.readableBytesView) == [0, 0, 0, 0, 3, 1, 2, 3])
        #expect(Array(connectUnary.frame(ByteBuffer(bytes: [1, 2, 3])).readableBytesView) == [1, 2, 3])
    }

    @Test func grpcWebTextSendsEachFrameAsPaddedBase64() {
        // [0, 0,0,0,1, 0x41] is "AAAAAAFB" in base64.
        #expect(String(buffer: grpcWebText.frame(ByteBuffer(bytes: [0x41]))) == "AAAAAAFB")
    }

    @Test func grpcWebEndsWithATrailerFrame() {
        let end = grpcWeb.endOfStream(RPCError(code: .notFound, message: "no workflow 'x' ✓"), trailing: Metadata())
        let bytes = Array(end.readableBytesView)
        let text = "grpc-status: 5\r\ngrpc-message: no workflow 'x' %E2%9C%93\r\n"
        #expect(bytes[0] == 0x80)
        #expect(bytes[1..<5] == [0, 0, 0, UInt8(text.utf8.count)])
        #expect(String(decoding: bytes[5...], as: UTF8.self) == text)
    }

    @Test func connectStreamsEndWithAnEndOfStreamMessage() {
        var trailing = Metadata()
        trailing.add("x-run", "7")
        let ok = connectStream.endOfStream(RPCError(code: .ok, message: ""), trailing: trailing)
        #expect(ok.getInteger(at: 0, as: UInt8.self) == 0x02)
        #expect(String(buffer: ok.getSlice(at: 5, length: ok.readableBytes - 5)!) == #"{"metadata":{"x-run":["7"]}}"#)
        let failed = connectStream.endOfStream(RPCError(code: .cancelled, message: "gone"), trailing: Metadata())
        #expect(String(buffer: failed.getSlice(at: 5, length: failed.readableBytes - 5)!)
            == #"{"error":{"code":"canceled","message":"gone"}}"#)
    }

    @Test func connectUnaryErrorsUseTheHTTPStatusOfTheirCode() {
        let (head, body) = connectUnary.unaryEnding(RPCError(code: .resourceExhausted, message: "too big"), response: nil,
                                                     initial: Metadata(), trailing: Metadata())
        #expect(head.first(named: ":status") == "429")
        #expect(head.first(named: "content-type") == "application/json")
        #expect(String(buffer: body) == #"{"code":"resource_exhausted","message":"too big"}"#)
        let expected: [(RPCStatusCode, Int)] = [
            (.cancelled, 499), (.unknown, 500), (.invalidArgument, 400), (.deadlineExceeded, 504), (.notFound, 404),
            (.alreadyExists, 409), (.permissionDenied, 403), (.failedPrecondition, 400), (.aborted, 409),
            (.outOfRange, 400), (.unimplemented, 501), (.internal, 500), (.unavailable, 503), (.dataLoss, 500),
            (.unauthenticated, 401),
        ]
        for (code, status) in expected { #expect(code.connectHTTPStatus == status, "\(code)") }
    }

    @Test func connectUnarySuccessCarriesTrailingMetadataAsTrailerHeaders() {
        var trailing = Metadata()
        trailing.add("x-a", "b")
        let (head, body) = connectUnary.unaryEnding(RPCError(code: .ok, message: ""), response: ByteBuffer(string: "{}"),
                                                     initial: Metadata(), trailing: trailing)
        #expect(head.first(named: ":status") == "200")
        #expect(head.first(named: "content-length") == "2")
        #expect(head.first(named: "trailer-x-a") == "b")
        #expect(String(buffer: body) == "{}")
    }

    @Test func connectTimeoutIsMilliseconds() throws {
        #expect(try connectUnary.timeout(in: [HTTP2Header("connect-timeout-ms", "1500")]) == .milliseconds(1500))
        #expect(throws: RPCError.self) { try connectUnary.timeout(in: [HTTP2Header("connect-timeout-ms", "-1")]) }
        #expect(try grpcWeb.timeout(in: [HTTP2Header("grpc-timeout", "2S")]) == .seconds(2))
    }

    @Test func jsonDecodingErrorsNameTheProblem() {
        do {
            _ = try MessageCodec.json.decode(Baton_V1_DescribeWorkflowRequest.self,
                                             from: ByteBuffer(string: #"{"workflowIdd":"x"}"#))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("workflowIdd"))
        }
        let empty = try? MessageCodec.json.decode(Baton_V1_DescribeWorkflowRequest.self, from: ByteBuffer())
        #expect(empty == Baton_V1_DescribeWorkflowRequest())
    }
}
