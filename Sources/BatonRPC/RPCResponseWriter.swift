import NIOCore
import SwiftProtobuf

/// Sends the response messages of a server-streaming or bidirectional call.
///
/// `write` suspends while the client reads slowly (the stream's queue is above its high watermark),
/// so a handler never buffers without bound. It throws `CANCELLED` once the call is over.
public struct RPCResponseWriter<Response: SwiftProtobuf.Message>: Sendable {
    let sink: ResponseSink

    /// Sends one message.
    public func write(_ message: Response) async throws {
        try await sink.write(sink.codec.encode(message))
    }
}

/// Where a server call's encoded response messages go (framed by the call's protocol), and the codec
/// that encodes them.
struct ResponseSink: Sendable {
    let codec: MessageCodec
    let write: @Sendable (ByteBuffer) async throws -> Void

    func write(_ payload: ByteBuffer) async throws {
        try await write(payload)
    }
}
