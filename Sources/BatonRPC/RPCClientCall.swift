import NIOCore
import SwiftProtobuf

/// An open client call: send request messages, read responses, learn the status.
///
/// ```swift
/// let call = try await client.makeCall("/grpc.testing.TestService/FullDuplexCall")
/// try await call.send(request)
/// for try await reply in call.messages(as: Grpc_Testing_StreamingOutputCallResponse.self) { ... }
/// ```
public struct RPCClientCall: Sendable {
    let call: NIOLoopBound<ClientCall>
    let eventLoop: any EventLoop
    let responses: AsyncThrowingStream<ByteBuffer, any Error>
    let initialMetadataFuture: EventLoopFuture<Metadata>
    let resultFuture: EventLoopFuture<ClientCallResult>

    init(call: NIOLoopBound<ClientCall>, eventLoop: any EventLoop, responses: AsyncThrowingStream<ByteBuffer, any Error>,
         initialMetadata: EventLoopFuture<Metadata>, result: EventLoopFuture<ClientCallResult>) {
        self.call = call
        self.eventLoop = eventLoop
        self.responses = responses
        self.initialMetadataFuture = initialMetadata
        self.resultFuture = result
    }

    /// Sends one request message; suspends while the server reads slowly.
    public func send(_ message: some SwiftProtobuf.Message) async throws {
        var buffer = ByteBuffer()
        try GRPCMessageFramer.frame(message, into: &buffer)
        let framed = buffer
        let call = self.call
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            eventLoop.execute { call.value.send(framed, continuation: continuation) }
        }
    }

    /// Ends the request stream (half-close).
    public func finishSending() async {
        let call = self.call
        try? await eventLoop.submit { call.value.finishSending() }.get()
    }

    /// Cancels the call (RST_STREAM CANCEL); it ends with CANCELLED.
    public func cancel() {
        let call = self.call
        eventLoop.execute { call.value.cancel() }
    }

    /// The response messages; the sequence throws `RPCError` when the status is not OK.
    public func messages<Response: SwiftProtobuf.Message>(as type: Response.Type) -> AsyncThrowingMapSequence<AsyncThrowingStream<ByteBuffer, any Error>, Response> {
        responses.map { payload in
            do {
                return try GRPCMessageFramer.decode(Response.self, from: payload)
            } catch {
                // The peer answered with something that is not this RPC's response: say so in the
                // client's words, not as a request error.
                throw RPCError(code: .internal,
                               message: "the server's answer is not a \(Response.protoMessageName) "
                                   + "(is the address a Baton server of this version?)", cause: error)
            }
        }
    }

    /// The response headers' custom metadata (empty for a Trailers-Only answer).
    public func initialMetadata() async throws -> Metadata {
        try await initialMetadataFuture.get()
    }

    /// The status and trailing metadata, once the call is over.
    public func result() async throws -> ClientCallResult {
        try await resultFuture.get()
    }
}
