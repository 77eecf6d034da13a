import BatonCore

/// One stored definition version.
public struct DefinitionRecord: Sendable, Hashable, Codable {
    /// Definition name.
    public var name: String
    /// Version number, from 1.
    public var version: Int
    /// Canonical content used for "same content → same version".
    public var content: String
    /// The source text as registered.
    public var source: String
    /// Registration time.
    public var createdAt: Instant

    /// Creates a record.
    public init(name: String, version: Int, content: String, source: String, createdAt: Instant) {
        self.name = name
        self.version = version
        self.content = content
        self.source = source
        self.createdAt = createdAt
    }
}
