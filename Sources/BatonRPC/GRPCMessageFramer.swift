import NIOCore
import SwiftProtobuf

/// Writes gRPC length-prefixed messages (uncompressed).
public enum GRPCMessageFramer {
    /// Appends `payload` with its 5-byte prefix to `buffer`.
    public static func frame(_ payload: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
    }

    /// Serializes `message` and appends it, framed, to `buffer`.
    public static func frame(_ message: some SwiftProtobuf.Message, into buffer: inout ByteBuffer) throws(RPCError) {
        let bytes: [UInt8]
        do {
            bytes = try message.serializedBytes()
        } catch {
            throw RPCError(code: .internal, message: "could not serialize \(type(of: message)): \(error)", cause: error)
        }
        frame(bytes, into: &buffer)
    }

    /// Decodes a protobuf message from a deframed payload.
    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from payload: ByteBuffer) throws(RPCError) -> M {
        do {
            return try payload.withUnsafeReadableBytes { bytes in
                try M(serializedBytes: Array(bytes))
            }
        } catch BinaryDecodingError.messageDepthLimit {
            throw RPCError(code: .invalidArgument,
                           message: "\(M.protoMessageName) nests messages more than 100 levels deep "
                               + "(JSON values may nest at most 32 levels)")
        } catch {
            throw RPCError(code: .invalidArgument,
                           message: "request is not a valid \(M.protoMessageName): \(error)", cause: error)
        }
    }
}
