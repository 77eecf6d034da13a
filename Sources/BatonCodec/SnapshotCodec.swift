import BatonCore
import BatonEngine
import BatonProto
import Foundation
import SwiftProtobuf

/// The single place where workflow snapshots become bytes for the store and back.
///
/// Format 2 (written): one format byte (`0x02`) and the protobuf `baton.storage.v1.Snapshot`.
/// Format 1 (read only, for databases written before format 2 and for their migration): the JSON
/// of ``WorkflowState``'s synthesized `Codable` shape.
public enum SnapshotCodec {
    /// The format written by ``encode(_:)``.
    public static let currentVersion: UInt8 = 2
    /// The JSON format of releases before protobuf snapshots.
    public static let legacyJSONVersion: UInt8 = 1

    /// Encodes a snapshot.
    public static func encode(_ state: WorkflowState) throws(BatonError) -> [UInt8] {
        do {
            var bytes: [UInt8] = [currentVersion]
            bytes.append(contentsOf: try state.storageMessage.serializedBytes() as [UInt8])
            return bytes
        } catch {
            throw BatonError(.internal, "a snapshot could not be encoded", cause: error)
        }
    }

    /// Decodes bytes written by ``encode(_:)`` (or by a format-1 release).
    public static func decode(_ bytes: some Collection<UInt8>) throws(BatonError) -> WorkflowState {
        guard let version = bytes.first else { throw BatonError(.storage, "empty snapshot") }
        switch version {
        case currentVersion:
            let message: Baton_Storage_V1_Snapshot
            do {
                message = try Baton_Storage_V1_Snapshot(serializedBytes: Array(bytes.dropFirst()))
            } catch {
                throw BatonError(.storage, "corrupt snapshot", cause: error)
            }
            return try WorkflowState(storage: message)
        case legacyJSONVersion:
            do {
                return try JSONDecoder().decode(WorkflowState.self, from: Data(bytes.dropFirst()))
            } catch {
                throw BatonError(.storage, "corrupt format-1 snapshot", cause: error)
            }
        default:
            throw BatonError(.storage, "unknown snapshot format version \(version)")
        }
    }
}
