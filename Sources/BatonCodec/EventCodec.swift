import BatonCore
import BatonProto

/// The single place where events become bytes for the store and back.
///
/// A payload is one format byte and the event. Format 2 (written): the protobuf
/// `baton.storage.v1.Event`. Format 1 (read only, for databases written before format 2 and for
/// the migration that converts them): the JSON of ``EventKind``'s synthesized `Codable` shape.
public enum EventCodec {
    /// The format written by ``encode(_:)``.
    public static let currentVersion = VersionedPayload.protobuf
    /// The JSON format of releases before protobuf history.
    public static let legacyJSONVersion = VersionedPayload.legacyJSON

    /// Encodes an event's kind.
    public static func encode(_ kind: EventKind) throws(BatonError) -> [UInt8] {
        try VersionedPayload.encode(kind.storageMessage, what: "an event")
    }

    /// Decodes bytes written by ``encode(_:)`` (or by a format-1 release).
    public static func decode(_ bytes: some Collection<UInt8>) throws(BatonError) -> EventKind {
        try VersionedPayload.decode(
            bytes, as: Baton_Storage_V1_Event.self, legacy: EventKind.self, what: "event payload"
        ) { (message: Baton_Storage_V1_Event) throws(BatonError) in try EventKind(storage: message) }
    }
}
