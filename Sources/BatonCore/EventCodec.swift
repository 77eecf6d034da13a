import Foundation

/// The single place where events are turned into bytes for the store and back.
///
/// Format version 1: one version byte (`0x01`) followed by the JSON encoding of ``EventKind``
/// (its synthesized `Codable` shape, written by ``JSONWriter`` and read by `JSONDecoder`).
/// A later format (protobuf) gets a new version byte; old rows stay readable.
public enum EventCodec {
    /// The format version written by ``encode(_:)``.
    public static let currentVersion: UInt8 = 1

    /// Encodes an event's kind.
    public static func encode(_ kind: EventKind) throws(BatonError) -> [UInt8] {
        var writer = JSONWriter(prefix: [currentVersion], capacity: 128)
        kind.write(to: &writer)
        return writer.bytes
    }

    /// Decodes bytes written by ``encode(_:)``.
    public static func decode(_ bytes: some Collection<UInt8>) throws(BatonError) -> EventKind {
        guard let version = bytes.first else { throw BatonError(.storage, "empty event payload") }
        guard version == currentVersion else { throw BatonError(.storage, "unknown event format version \(version)") }
        do {
            return try JSONDecoder().decode(EventKind.self, from: Data(bytes.dropFirst()))
        } catch {
            throw BatonError(.storage, "corrupt event payload", cause: error)
        }
    }
}
