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
        var buffer = ByteBuffer()
        try GRPCMessageFramer.frame(message, into: &buffer)
        try await sink.write(buffer)
    }
}

/// Where a server call's framed response messages go (implemented over the HTTP/2 stream).
struct ResponseSink: Sendable {
    let write: @Sendable (ByteBuffer) async throws -> Void

    func write(_ framed: ByteBuffer) async throws {
        try await write(framed)
    }
}
