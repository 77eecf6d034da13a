import NIOCore
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

/// The connection-setup machine: every event in every state, including a close while configuring.
@Suite(.timeLimit(.minutes(2))) struct ProtocolDetectionTests {
    private func bytes(_ values: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: values) }

    @Test func thePrefaceInPiecesConfiguresHTTP2ThenHandsOffEveryByte() {
        var machine = ProtocolDetection()
        let preface = ProtocolDetector.preface + [0, 0, 0, 4]
        #expect(machine.received(bytes(Array(preface.prefix(5)))) == .none)
        #expect(machine.received(bytes(Array(preface.dropFirst(5)))) == .configure(.http2))
        // Bytes arriving while configuring are kept for the hand-off.
        #expect(machine.received(bytes([9])) == .none)
        #expect(machine.configured() == .handOff(bytes(preface + [9])))
        #expect(machine.received(bytes([1, 2])) == .forward(bytes([1, 2])))
    }

    @Test func otherBytesConfigureHTTP1() {
        var machine = ProtocolDetection()
        #expect(machine.received(bytes(Array("GET / HTTP/1.1\r\n".utf8))) == .configure(.http1))
    }

    @Test func aCloseWhileConfiguringLeavesNothingToDo() {
        var machine = ProtocolDetection()
        #expect(machine.received(bytes(ProtocolDetector.preface)) == .configure(.http2))
        machine.inactive()
        #expect(machine.configured() == .none)
        #expect(machine.configurationFailed() == .none)
        #expect(machine.received(bytes([1])) == .none)
    }

    @Test func aFailedConfigurationClosesOnce() {
        var machine = ProtocolDetection()
        #expect(machine.received(bytes([0x16, 3, 1])) == .configure(.http1))
        #expect(machine.configurationFailed() == .close)
        #expect(machine.configurationFailed() == .none)
        #expect(machine.configured() == .none)
    }

    @Test func anInactiveChannelBeforeAnyByteDropsLaterEvents() {
        var machine = ProtocolDetection()
        machine.inactive()
        #expect(machine.received(bytes(ProtocolDetector.preface)) == .none)
    }
}
