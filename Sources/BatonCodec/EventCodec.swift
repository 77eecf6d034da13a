import BatonCore
import BatonProto
import Foundation
import SwiftProtobuf

/// The single place where events become bytes for the store and back.
///
/// A payload is one format byte and the event. Format 2 (written): the protobuf
/// `baton.storage.v1.Event`. Format 1 (read only, for databases written before format 2 and for
/// the migration that converts them): the JSON of ``EventKind``'s synthesized `Codable` shape.
public enum EventCodec {
    /// The format written by ``encode(_:)``.
    public static let currentVersion: UInt8 = 2
    /// The JSON format of releases before protobuf history.
    public static let legacyJSONVersion: UInt8 = 1

    /// Encodes an event's kind.
    public static func encode(_ kind: EventKind) throws(BatonError) -> [UInt8] {
        do {
            var bytes: [UInt8] = [currentVersion]
            bytes.append(contentsOf: try kind.storageMessage.serializedBytes() as [UInt8])
            return bytes
        } catch {
            throw BatonError(.internal, "an event could not be encoded", cause: error)
        }
    }

    /// Decodes bytes written by ``encode(_:)`` (or by a format-1 release).
    public static func decode(_ bytes: some Collection<UInt8>) throws(BatonError) -> EventKind {
        guard let version = bytes.first else { throw BatonError(.storage, "empty event payload") }
        switch version {
        case currentVersion:
            let message: Baton_Storage_V1_Event
            do {
                message = try Baton_Storage_V1_Event(serializedBytes: Array(bytes.dropFirst()))
            } catch {
                throw BatonError(.storage, "corrupt event payload", cause: error)
            }
            return try EventKind(storage: message)
        case legacyJSONVersion:
            do {
                return try JSONDecoder().decode(EventKind.self, from: Data(bytes.dropFirst()))
            } catch {
                throw BatonError(.storage, "corrupt format-1 event payload", cause: error)
            }
        default:
            throw BatonError(.storage, "unknown event format version \(version)")
        }
    }
}
