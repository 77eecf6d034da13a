import BatonCore

/// A definition name and version: what a workflow run is pinned to.
public struct DefinitionRef: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Definition name.
    public var name: String
    /// Version, from 1.
    public var version: Int

    /// Creates a reference.
    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    /// `name@version`.
    public var description: String { "\(name)@\(version)" }
}
