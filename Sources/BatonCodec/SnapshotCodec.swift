import BatonCore
import BatonEngine
import BatonProto

/// The single place where workflow snapshots become bytes for the store and back.
///
/// Format 2 (written): one format byte (`0x02`) and the protobuf `baton.storage.v1.Snapshot`.
/// Format 1 (read only, for databases written before format 2 and for their migration): the JSON
/// of ``WorkflowState``'s synthesized `Codable` shape.
public enum SnapshotCodec {
    /// The format written by ``encode(_:)``.
    public static let currentVersion = VersionedPayload.protobuf
    /// The JSON format of releases before protobuf snapshots.
    public static let legacyJSONVersion = VersionedPayload.legacyJSON

    /// Encodes a snapshot.
    public static func encode(_ state: WorkflowState) throws(BatonError) -> [UInt8] {
        try VersionedPayload.encode(state.storageMessage, what: "a snapshot")
    }

    /// Decodes bytes written by ``encode(_:)`` (or by a format-1 release).
    public static func decode(_ bytes: some Collection<UInt8>) throws(BatonError) -> WorkflowState {
        try VersionedPayload.decode(
            bytes, as: Baton_Storage_V1_Snapshot.self, legacy: WorkflowState.self, what: "snapshot"
        ) { (message: Baton_Storage_V1_Snapshot) throws(BatonError) in try WorkflowState(storage: message) }
    }
}
