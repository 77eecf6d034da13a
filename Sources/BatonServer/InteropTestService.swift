import BatonProto
import BatonRPC
import Foundation

/// `grpc.testing.TestService`, the gRPC interoperability test service, with the standard semantics:
/// responses of the requested sizes, the requested status echoed back, and the
/// `x-grpc-test-echo-initial` / `x-grpc-test-echo-trailing-bin` metadata echoed in the initial
/// metadata and the trailers. Mounted only with `baton server --enable-test-service`.
public enum InteropTestService {
    /// The service's fully-qualified name.
    public static let name = "grpc.testing.TestService"

    /// Registers every method of the service.
    public static func register(into router: inout RPCRouter) {
        router.register("/\(name)/EmptyCall", .unary { (_: Grpc_Testing_Empty, context) in
            echoMetadata(context)
            return Grpc_Testing_Empty()
        })
        router.register("/\(name)/UnaryCall", .unary { (request: Grpc_Testing_SimpleRequest, context) in
            echoMetadata(context)
            try checkStatus(request.hasResponseStatus ? request.responseStatus : nil)
            return Grpc_Testing_SimpleResponse.with {
                $0.payload = payload(size: request.responseSize)
            }
        })
        router.register("/\(name)/CacheableUnaryCall", .unary { (request: Grpc_Testing_SimpleRequest, context) in
            echoMetadata(context)
            return Grpc_Testing_SimpleResponse.with { $0.payload = payload(size: request.responseSize) }
        })
        router.register("/\(name)/StreamingOutputCall", .serverStreaming {
            (request: Grpc_Testing_StreamingOutputCallRequest, writer: RPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context) in
            echoMetadata(context)
            try await respond(to: request, with: writer)
        })
        router.register("/\(name)/StreamingInputCall", .clientStreaming {
            (requests: RPCRequestStream<Grpc_Testing_StreamingInputCallRequest>, context) in
            echoMetadata(context)
            var total: Int32 = 0
            for try await request in requests { total += Int32(request.payload.body.count) }
            return Grpc_Testing_StreamingInputCallResponse.with { $0.aggregatedPayloadSize = total }
        })
        router.register("/\(name)/FullDuplexCall", .bidirectional {
            (requests: RPCRequestStream<Grpc_Testing_StreamingOutputCallRequest>, writer: RPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context) in
            echoMetadata(context)
            for try await request in requests { try await respond(to: request, with: writer) }
        })
        router.register("/\(name)/HalfDuplexCall", .bidirectional {
            (requests: RPCRequestStream<Grpc_Testing_StreamingOutputCallRequest>, writer: RPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context) in
            echoMetadata(context)
            var all: [Grpc_Testing_StreamingOutputCallRequest] = []
            for try await request in requests { all.append(request) }
            for request in all { try await respond(to: request, with: writer) }
        })
        router.register("/\(name)/UnimplementedCall", .unary { (_: Grpc_Testing_Empty, _) -> Grpc_Testing_Empty in
            throw RPCError(code: .unimplemented, message: "UnimplementedCall is, by definition, not implemented")
        })
    }

    private static func respond(
        to request: Grpc_Testing_StreamingOutputCallRequest,
        with writer: RPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>
    ) async throws {
        try checkStatus(request.hasResponseStatus ? request.responseStatus : nil)
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 {
                try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs)))
            }
            try await writer.write(.with { $0.payload = payload(size: parameters.size) })
        }
    }

    private static func payload(size: Int32) -> Grpc_Testing_Payload {
        Grpc_Testing_Payload.with { $0.body = Data(count: Int(max(0, size))) }
    }

    private static func checkStatus(_ status: Grpc_Testing_EchoStatus?) throws {
        guard let status, status.code != 0 else { return }
        throw RPCError(code: RPCStatusCode(rawValue: Int(status.code)), message: status.message)
    }

    private static func echoMetadata(_ context: ServerCallContext) {
        if let initial = context.requestMetadata["x-grpc-test-echo-initial"] {
            var metadata = context.initialMetadata
            metadata.add("x-grpc-test-echo-initial", initial)
            context.initialMetadata = metadata
        }
        if let trailing = context.requestMetadata.binary("x-grpc-test-echo-trailing-bin") {
            var metadata = context.trailingMetadata
            metadata.add("x-grpc-test-echo-trailing-bin", binary: trailing)
            context.trailingMetadata = metadata
        }
    }
}
