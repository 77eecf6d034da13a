import FuzzDriver
@testable import BatonRPC
import NIOCore

/// libFuzzer entry: bytes as a request body of the browser-side protocols. The first byte chooses the
/// wire format — gRPC-Web binary or text (base64), Connect unary or streaming, each with or without
/// gzip — and how the body is cut; the second line-free run of bytes up to the first newline is also
/// tried as a content type. Every path must answer with messages or an RPCError, never crash.
func fuzzWebFraming(_ bytes: UnsafeRawBufferPointer) -> CInt {
    let count = bytes.count
    guard count > 0 else { return 0 }
    let selector = bytes[0]
    let families: [WireProtocol.Family] = [.grpcWeb(text: false), .grpcWeb(text: true), .connectUnary, .connectStream]
    let wire = WireProtocol(family: families[Int(selector & 0x03)], codec: selector & 0x04 == 0 ? .proto : .json)
    var body = RequestBody(wire: wire, maxMessageSize: 4_096, gzip: selector & 0x08 != 0)
    let piece = Int(selector >> 4) + 1
    let rest = UnsafeRawBufferPointer(rebasing: bytes[1...])
    if let newline = rest.firstIndex(of: 0x0A) {
        _ = WireProtocol.detect(method: "POST", contentType: String(decoding: rest[..<newline], as: UTF8.self))
    }
    do {
        var offset = 0
        while offset < rest.count {
            let end = min(rest.count, offset + piece)
            try body.append(UnsafeRawBufferPointer(rebasing: rest[offset..<end]))
            offset = end
            while let message = try body.next() { precondition(message.readableBytes <= 4_096) }
        }
        if let last = try body.end() { precondition(last.readableBytes <= 4_096) }
    } catch {
        return 0
    }
    return 0
}

runFuzzer { input in _ = fuzzWebFraming(input) }
