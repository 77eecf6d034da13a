import BatonCore
import Foundation
import SwiftProtobuf

/// The stored layout shared by events and snapshots: one format byte, then the payload — format 2 a
/// protobuf message, format 1 (read only) the JSON of a type's synthesized `Codable` shape.
enum VersionedPayload {
    /// The protobuf format written now.
    static let protobuf: UInt8 = 2
    /// The JSON format of releases before protobuf storage.
    static let legacyJSON: UInt8 = 1

    /// `[protobuf] + message`; `what` names the payload in the error.
    static func encode(_ message: some SwiftProtobuf.Message, what: String) throws(BatonError) -> [UInt8] {
        do {
            var bytes: [UInt8] = [protobuf]
            bytes.append(contentsOf: try message.serializedBytes() as [UInt8])
            return bytes
        } catch {
            throw BatonError(.internal, "\(what) could not be encoded", cause: error)
        }
    }

    /// Decodes either format: `fromMessage` maps a format-2 message, `Legacy` is read from format-1 JSON.
    static func decode<M: SwiftProtobuf.Message, Value: Decodable>(
        _ bytes: some Collection<UInt8>, as message: M.Type, legacy: Value.Type, what: String,
        fromMessage: (M) throws(BatonError) -> Value
    ) throws(BatonError) -> Value {
        guard let version = bytes.first else { throw BatonError(.storage, "empty \(what)") }
        switch version {
        case protobuf:
            let decoded: M
            do {
                decoded = try M(serializedBytes: Array(bytes.dropFirst()))
            } catch {
                throw BatonError(.storage, "corrupt \(what)", cause: error)
            }
            return try fromMessage(decoded)
        case legacyJSON:
            do {
                return try JSONDecoder().decode(Value.self, from: Data(bytes.dropFirst()))
            } catch {
                throw BatonError(.storage, "corrupt format-1 \(what)", cause: error)
            }
        default:
            throw BatonError(.storage, "unknown \(what) format version \(version)")
        }
    }
}
