import BatonCore
import Foundation

/// The single place where workflow snapshots become bytes for the store and back.
///
/// Format version 1: one version byte (`0x01`) followed by the JSON encoding of ``WorkflowState``
/// (its synthesized `Codable` shape, written by `JSONWriter` and read by `JSONDecoder`).
public enum SnapshotCodec {
    /// The format version written by ``encode(_:)``.
    public static let currentVersion: UInt8 = 1

    /// Encodes a snapshot.
    public static func encode(_ state: WorkflowState) throws(BatonError) -> [UInt8] {
        var writer = JSONWriter(prefix: [currentVersion], capacity: 1024)
        state.write(to: &writer)
        return writer.bytes
    }

    /// Decodes bytes written by ``encode(_:)``.
    public static func decode(_ bytes: some Collection<UInt8>) throws(BatonError) -> WorkflowState {
        guard let version = bytes.first else { throw BatonError(.storage, "empty snapshot") }
        guard version == currentVersion else { throw BatonError(.storage, "unknown snapshot format version \(version)") }
        do {
            return try JSONDecoder().decode(WorkflowState.self, from: Data(bytes.dropFirst()))
        } catch {
            throw BatonError(.storage, "corrupt snapshot", cause: error)
        }
    }
}
