/// The outcome of registering a definition.
public struct DefinitionRegistration: Hashable, Sendable {
    /// The name and version the content is registered as.
    public var ref: DefinitionRef
    /// True for exactly the one call that stored this version; false when the same content was
    /// already registered (by an earlier or a concurrent call).
    public var created: Bool

    /// Creates an outcome.
    public init(ref: DefinitionRef, created: Bool) {
        self.ref = ref
        self.created = created
    }
}
