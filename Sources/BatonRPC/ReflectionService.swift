import BatonProto
import Foundation

/// Server reflection, `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection`
/// (the two are wire-identical, so one implementation serves both): list services, file by filename,
/// file containing symbol, extensions. Lookups that fail answer with an `error_response` on the stream.
public enum ReflectionService {
    /// The v1 service name.
    public static let v1 = "grpc.reflection.v1.ServerReflection"
    /// The v1alpha service name.
    public static let v1alpha = "grpc.reflection.v1alpha.ServerReflection"

    typealias Request = Grpc_Reflection_V1_ServerReflectionRequest
    typealias Response = Grpc_Reflection_V1_ServerReflectionResponse

    /// Registers both versions. `services` is read at call time (the services the router serves).
    public static func register(into router: inout RPCRouter, index: DescriptorIndex,
                                services: @escaping @Sendable () -> [String]) {
        let handler = RPCHandler.bidirectional {
            (requests: RPCRequestStream<Request>, writer: RPCResponseWriter<Response>, _) in
            for try await request in requests {
                try await writer.write(answer(request, index: index, services: services()))
            }
        }
        router.register("/\(v1)/ServerReflectionInfo", handler)
        router.register("/\(v1alpha)/ServerReflectionInfo", handler)
    }

    static func answer(_ request: Request, index: DescriptorIndex, services: [String]) -> Response {
        var response = Response()
        response.validHost = request.host
        response.originalRequest = request
        func notFound(_ message: String) -> Response.OneOf_MessageResponse {
            .errorResponse(.with {
                $0.errorCode = Int32(RPCStatusCode.notFound.rawValue)
                $0.errorMessage = message
            })
        }
        func files(_ name: String) -> Response.OneOf_MessageResponse {
            .fileDescriptorResponse(.with { $0.fileDescriptorProto = index.serializedClosure(of: name) })
        }
        switch request.messageRequest {
        case .listServices:
            response.listServicesResponse = .with {
                $0.service = services.map { name in .with { $0.name = name } }
            }
        case .fileByFilename(let name):
            response.messageResponse = index.contains(file: name) ? files(name) : notFound("file '\(name)' not found")
        case .fileContainingSymbol(let symbol):
            if let name = index.file(containingSymbol: symbol) {
                response.messageResponse = files(name)
            } else {
                response.messageResponse = notFound("symbol '\(symbol)' not found")
            }
        case .fileContainingExtension(let request):
            response.messageResponse = notFound(
                "no extension \(request.extensionNumber) of '\(request.containingType)' is known")
        case .allExtensionNumbersOfType(let type):
            if index.file(containingSymbol: type) != nil {
                response.allExtensionNumbersResponse = .with { $0.baseTypeName = type }
            } else {
                response.messageResponse = notFound("type '\(type)' not found")
            }
        case nil:
            response.messageResponse = .errorResponse(.with {
                $0.errorCode = Int32(RPCStatusCode.invalidArgument.rawValue)
                $0.errorMessage = "the request names no lookup (message_request is empty)"
            })
        }
        return response
    }
}
