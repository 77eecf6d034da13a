import NIOCore
import SwiftProtobuf

/// The request messages of a client-streaming or bidirectional call, as an async sequence.
///
/// ```swift
/// for try await request in requests { total += request.payload.body.count }
/// ```
public struct RPCRequestStream<Request: SwiftProtobuf.Message>: AsyncSequence, Sendable {
    public typealias Element = Request
    let queue: InboundMessageQueue
    let codec: MessageCodec

    /// Iterates the requests; ends when the client half-closes.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: InboundMessageQueue
        let codec: MessageCodec

        public mutating func next() async throws -> Request? {
            guard let payload = try await queue.next() else { return nil }
            return try codec.decode(Request.self, from: payload)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: queue, codec: codec) }
}
