/// Supplies the values that references read; implemented by the engine's workflow state.
public protocol ReferenceResolver {
    /// The value at `reference`, or `.null` when it does not exist (yet).
    func resolve(_ reference: Reference) -> JSONValue
}
