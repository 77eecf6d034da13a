import FuzzDriver
@testable import BatonRPC
import NIOCore

/// libFuzzer entry: bytes as a gRPC request body arriving in pieces. The first byte chooses how the
/// rest is cut (1–16 bytes per piece, or whole); the deframer must return messages within the limit
/// or throw — never crash, hang or hold more than the limit.
func fuzzGRPCDeframer(_ bytes: UnsafeRawBufferPointer) -> CInt {
    let count = bytes.count
    guard count > 0 else { return 0 }
    let piece = Int(bytes[0] & 0x0F) + 1
    let whole = bytes[0] & 0x10 != 0
    var deframer = GRPCMessageDeframer(maxMessageSize: 4_096)
    var offset = 1
    do {
        while offset < count {
            let end = whole ? count : min(count, offset + piece)
            deframer.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            offset = end
            while let (message, _) = try deframer.nextMessage() {
                precondition(message.readableBytes <= 4_096, "a message over the limit came out")
            }
        }
    } catch {
        return 0
    }
    return 0
}

runFuzzer { input in _ = fuzzGRPCDeframer(input) }
