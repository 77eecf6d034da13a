import NIOCore
import SwiftProtobuf

/// The four shapes of an RPC.
public enum RPCKind: Sendable {
    /// One request, one response.
    case unary
    /// One request, a stream of responses.
    case serverStreaming
    /// A stream of requests, one response.
    case clientStreaming
    /// Streams both ways.
    case bidirectional

    /// Whether the client sends a stream of messages (the handler starts before the request ends).
    var streamsRequests: Bool { self == .clientStreaming || self == .bidirectional }
}

/// A server method implementation with typed protobuf messages.
///
/// ```swift
/// router.register("/grpc.testing.TestService/EmptyCall",
///                 .unary { (request: Grpc_Testing_Empty, context) in Grpc_Testing_Empty() })
/// ```
public struct RPCHandler: Sendable {
    /// The method's shape.
    public let kind: RPCKind
    /// Whether the method only reads (`idempotency_level = NO_SIDE_EFFECTS`): Connect clients may call
    /// it with GET.
    public private(set) var isSideEffectFree = false
    /// Runs the call with the call's codec; returns the encoded single response (unframed) for unary
    /// and client-streaming calls.
    let run: @Sendable (RequestSource, ResponseSink, ServerCallContext) async throws -> ByteBuffer?

    init(kind: RPCKind, run: @escaping @Sendable (RequestSource, ResponseSink, ServerCallContext) async throws -> ByteBuffer?) {
        self.kind = kind
        self.run = run
    }

    /// The same handler, marked as only reading (so it may be called with GET over Connect).
    public func sideEffectFree() -> RPCHandler {
        var copy = self
        copy.isSideEffectFree = true
        return copy
    }

    /// One request, one response.
    public static func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ body: @escaping @Sendable (Request, ServerCallContext) async throws -> Response
    ) -> RPCHandler {
        RPCHandler(kind: .unary) { source, sink, context in
            // A call reset or timed out before its task ran does no work at all, and one cancelled
            // while it ran is not encoded.
            try Task.checkCancellation()
            let request = try sink.codec.decode(Request.self, from: source.single)
            let response = try await body(request, context)
            try Task.checkCancellation()
            return try sink.codec.encode(response)
        }
    }

    /// One request, a stream of responses.
    public static func serverStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ body: @escaping @Sendable (Request, RPCResponseWriter<Response>, ServerCallContext) async throws -> Void
    ) -> RPCHandler {
        RPCHandler(kind: .serverStreaming) { source, sink, context in
            try Task.checkCancellation()
            let request = try sink.codec.decode(Request.self, from: source.single)
            try await body(request, RPCResponseWriter(sink: sink), context)
            return nil
        }
    }

    /// A stream of requests, one response.
    public static func clientStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ body: @escaping @Sendable (RPCRequestStream<Request>, ServerCallContext) async throws -> Response
    ) -> RPCHandler {
        RPCHandler(kind: .clientStreaming) { source, sink, context in
            try Task.checkCancellation()
            let response = try await body(RPCRequestStream(queue: source.queue, codec: sink.codec), context)
            try Task.checkCancellation()
            return try sink.codec.encode(response)
        }
    }

    /// Streams both ways.
    public static func bidirectional<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ body: @escaping @Sendable (RPCRequestStream<Request>, RPCResponseWriter<Response>, ServerCallContext)
            async throws -> Void
    ) -> RPCHandler {
        RPCHandler(kind: .bidirectional) { source, sink, context in
            try Task.checkCancellation()
            try await body(RPCRequestStream(queue: source.queue, codec: sink.codec), RPCResponseWriter(sink: sink),
                           context)
            return nil
        }
    }
}

/// Where a handler's requests come from: the one message of a unary-request call (collected before
/// the handler starts), or the queue of a streaming-request call.
enum RequestSource: Sendable {
    case single(ByteBuffer)
    case stream(InboundMessageQueue)

    var single: ByteBuffer {
        if case .single(let message) = self { return message }
        preconditionFailure("a streaming-request handler asked for a single message")
    }

    var queue: InboundMessageQueue {
        if case .stream(let queue) = self { return queue }
        preconditionFailure("a unary-request handler asked for a request stream")
    }
}
