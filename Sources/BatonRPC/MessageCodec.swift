import Foundation
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
                let problem = Self.syntaxProblem(payload) ?? Self.describe(error)
                throw RPCError(code: .invalidArgument,
                               message: "request is not a valid \(M.protoMessageName) in JSON: \(problem)", cause: error)
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
                return ByteBuffer(bytes: try ProtoJSON.bytes(message))
            }
        } catch {
            throw RPCError(code: .internal, message: "could not encode \(type(of: message)) as \(name): \(error)",
                           cause: error)
        }
    }

    private static let emptyObject: [UInt8] = Array("{}".utf8)

    /// What is wrong with `payload` as JSON text (with the position the parser stopped at), or that it
    /// is not an object; nil when it is a well-formed object (the fields are what is wrong).
    private static func syntaxProblem(_ payload: ByteBuffer) -> String? {
        let data = Data(payload.readableBytesView)
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return "invalid JSON syntax" + (detail.map { ": \($0)" } ?? "")
        }
        switch value {
        case is [String: Any]: return nil
        case is [Any]: return "expected a JSON object, got an array"
        case is String: return "expected a JSON object, got a string"
        case is NSNull: return "expected a JSON object, got null"
        default: return "expected a JSON object, got \(value)"
        }
    }

    /// A one-line description of a JSON decoding error.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? JSONDecodingError else { return "\(error)" }
        switch error {
        case .failure: return "the body is not a JSON object of the message's fields"
        case .unrecognizedEnumValue: return "an enum value is not one of the enum's names or numbers"
        case .unknownField(let name): return "unknown field '\(name)'"
        case .malformedNumber: return "a number is malformed or out of range"
        case .malformedString: return "a string field holds something else than a valid JSON string"
        case .messageDepthLimit: return "messages nest more than 100 levels deep"
        case .truncated: return "the JSON ends too early"
        case .trailingGarbage: return "unexpected text after the JSON value"
        default: return "\(error)"
        }
    }
}
