import Testing

@testable import BatonHTTP2

@Suite(.timeLimit(.minutes(2))) struct ProtocolDetectorTests {
    @Test func thePrefaceIsHTTP2() {
        #expect(ProtocolDetector.decide(ProtocolDetector.preface) == .http2)
        #expect(ProtocolDetector.decide(ProtocolDetector.preface + [0, 0, 0]) == .http2)
    }

    @Test func aPrefixOfThePrefaceNeedsMore() {
        #expect(ProtocolDetector.decide(ProtocolDetector.preface.prefix(10)) == .needMore)
        #expect(ProtocolDetector.decide([UInt8]()) == .needMore)
    }

    @Test func anythingElseIsHTTP1() {
        #expect(ProtocolDetector.decide(Array("GET / HTTP/1.1\r\n".utf8)) == .http1)
        #expect(ProtocolDetector.decide(Array("PRI * HTTP/1.1".utf8)) == .http1)
    }
}
