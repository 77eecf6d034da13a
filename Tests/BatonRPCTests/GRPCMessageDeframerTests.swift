import NIOCore
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(2))) struct GRPCMessageDeframerTests {
    private func framed(_ payloads: [[UInt8]]) -> [UInt8] {
        var buffer = ByteBuffer()
        for payload in payloads { GRPCMessageFramer.frame(payload, into: &buffer) }
        return Array(buffer.readableBytesView)
    }

    private func feed(_ deframer: inout GRPCMessageDeframer, _ bytes: [UInt8]) throws(RPCError) -> [[UInt8]] {
        bytes.withUnsafeBytes { deframer.append($0) }
        var out: [[UInt8]] = []
        while let message = try deframer.next() { out.append(Array(message.readableBytesView)) }
        return out
    }

    @Test func framesHaveAFiveBytePrefix() {
        #expect(framed([[1, 2, 3]]) == [0, 0, 0, 0, 3, 1, 2, 3])
    }

    @Test func coalescedMessagesComeOutSeparately() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        let messages = try feed(&deframer, framed([[1], [], [2, 3]]))
        #expect(messages == [[1], [], [2, 3]])
        #expect(!deframer.hasPartialMessage)
    }

    @Test func aMessageSplitAcrossChunksIsReassembled() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        let bytes = framed([Array(0..<50)])
        var out: [[UInt8]] = []
        for byte in bytes { out += try feed(&deframer, [byte]) }
        #expect(out == [Array(0..<50)])
    }

    @Test func aPartialMessageIsReported() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        let messages = try feed(&deframer, Array(framed([[1, 2, 3]]).dropLast()))
        #expect(messages.isEmpty)
        #expect(deframer.hasPartialMessage)
    }

    @Test func anOversizedMessageIsResourceExhaustedFromItsPrefix() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 4)
        // Only the prefix arrives: the limit is enforced before the payload is buffered.
        do {
            _ = try feed(&deframer, [0, 0, 0, 0, 5])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("exceeds the limit of 4 bytes"))
        }
    }

    @Test func aCompressedFlagWithoutEncodingIsInternal() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        do {
            _ = try feed(&deframer, [1, 0, 0, 0, 1, 9])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .internal)
            #expect(error.message.contains("compressed"))
        }
    }

    @Test func anInvalidFlagIsRejected() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        #expect(throws: RPCError.self) { _ = try feed(&deframer, [7, 0, 0, 0, 0]) }
    }
}
