import NIOCore
import SwiftProtobuf

/// How a call's messages are encoded: protobuf's binary form (gRPC, gRPC-Web, Connect `proto`) or its
/// canonical JSON mapping (Connect `json`, `application/grpc+json`).
public enum MessageCodec: Sendable, Equatable {
    /// Binary protobuf.
    case proto
    /// Protobuf's JSON mapping (lowerCamelCase names, enums by name, 64-bit integers as strings).
    case json

    /// The suffix content types use for it: `proto` or `json`.
    public var name: String {
        switch self {
        case .proto: "proto"
        case .json: "json"
        }
    }

    /// Decodes a request message; errors are INVALID_ARGUMENT naming the message type.
    public func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from payload: ByteBuffer) throws(RPCError) -> M {
        switch self {
        case .proto:
            return try GRPCMessageFramer.decode(M.self, from: payload)
        case .json:
            do {
                let bytes = payload.readableBytes == 0 ? Self.emptyObject : Array(payload.readableBytesView)
                return try M(jsonUTF8Bytes: bytes)
            } catch {
                throw RPCError(code: .invalidArgument,
                               message: "request is not a valid \(M.protoMessageName) in JSON: \(Self.describe(error))",
                               cause: error)
            }
        }
    }

    /// Encodes a response message.
    public func encode(_ message: some SwiftProtobuf.Message) throws(RPCError) -> ByteBuffer {
        do {
            switch self {
            case .proto:
                let bytes: [UInt8] = try message.serializedBytes()
                return ByteBuffer(bytes: bytes)
            case .json:
                let bytes: [UInt8] = try message.jsonUTF8Bytes()
                return ByteBuffer(bytes: bytes)
            }
        } catch {
            throw RPCError(code: .internal, message: "could not encode \(type(of: message)) as \(name): \(error)",
                           cause: error)
        }
    }

    private static let emptyObject: [UInt8] = Array("{}".utf8)

    /// A one-line description of a JSON decoding error.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? JSONDecodingError else { return "\(error)" }
        switch error {
        case .unrecognizedEnumValue: return "an enum value is not one of the enum's names or numbers"
        case .unknownField(let name): return "unknown field '\(name)'"
        case .malformedNumber: return "a number is malformed or out of range"
        case .malformedString: return "a string is malformed"
        case .messageDepthLimit: return "messages nest more than 100 levels deep"
        case .truncated: return "the JSON ends too early"
        case .trailingGarbage: return "unexpected text after the JSON value"
        default: return "\(error)"
        }
    }
}
