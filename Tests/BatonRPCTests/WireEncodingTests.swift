import BatonHTTP2
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(2))) struct WireEncodingTests {
    @Test func statusMessagesArePercentEncodedAndDecoded() {
        let message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
        let encoded = PercentEncoding.encode(message)
        #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        #expect(encoded.hasPrefix("%09%0Atest with whitespace%0D%0A"))
        #expect(PercentEncoding.decode(encoded) == message)
        #expect(PercentEncoding.encode("100%") == "100%25")
    }

    @Test func malformedPercentEscapesAreKeptLiterally() {
        #expect(PercentEncoding.decode("a%zzb%4") == "a%zzb%4")
    }

    @Test(arguments: [
        ("1H", Duration.seconds(3600)), ("2M", .seconds(120)), ("3S", .seconds(3)), ("4m", .milliseconds(4)),
        ("5u", .microseconds(5)), ("6n", .nanoseconds(6)), ("99999999S", .seconds(99_999_999)),
    ])
    func timeoutsParse(_ text: String, _ expected: Duration) {
        #expect(GRPCTimeout.parse(text) == expected)
    }

    @Test(arguments: ["", "S", "1", "1x", "123456789S", "-1S", "1.5S"])
    func malformedTimeoutsAreRejected(_ text: String) {
        #expect(GRPCTimeout.parse(text) == nil)
    }

    @Test func timeoutsEncodeWithinEightDigits() {
        #expect(GRPCTimeout.encode(.milliseconds(1500)) == "1500000u")
        #expect(GRPCTimeout.encode(.seconds(1_000_000)) == "1000000S")
        #expect(GRPCTimeout.encode(.seconds(200_000_000)) == "3333334M")
        for duration in [Duration.nanoseconds(1), .milliseconds(250), .seconds(86_400)] {
            let encoded = GRPCTimeout.encode(duration)
            #expect(encoded.count <= 9)
            #expect(GRPCTimeout.parse(encoded)! >= duration)
        }
    }

    @Test func binaryMetadataRoundTripsThroughBase64() {
        var metadata = Metadata()
        metadata.add("x-grpc-test-echo-trailing-bin", binary: [0xAB, 0xAB, 0xAB])
        metadata.add("X-Plain", "value")
        let headers = metadata.headers
        #expect(headers == [HTTP2Header("x-grpc-test-echo-trailing-bin", "q6ur"), HTTP2Header("x-plain", "value")])
        #expect(Metadata(headers: headers) == metadata)
        #expect(Base64.decode("q6s=") == [0xAB, 0xAB])
        #expect(Base64.decode("q6s") == [0xAB, 0xAB])
        #expect(Base64.decode("not base64!") == nil)
    }

    @Test func protocolHeadersAreNotMetadata() {
        let metadata = Metadata(headers: [
            HTTP2Header(":path", "/a/b"), HTTP2Header("content-type", "application/grpc"),
            HTTP2Header("grpc-timeout", "1S"), HTTP2Header("te", "trailers"), HTTP2Header("x-custom", "1"),
        ])
        #expect(metadata.entries.map(\.key) == ["x-custom"])
    }
}
