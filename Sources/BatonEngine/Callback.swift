/// A callback in a class box, for observers kept in a `Mutex`: a bare closure read out of a
/// `Mutex` comes back wrapped in reabstraction thunks that are written back with it, so every call
/// through it grew slower (an observer called on every commit fell to a tenth of the engine's
/// speed); a box is read and called as it is.
public final class Callback<Argument>: Sendable {
    /// The function called.
    public let call: @Sendable (Argument) -> Void

    /// Boxes `call`.
    public init(_ call: @escaping @Sendable (Argument) -> Void) {
        self.call = call
    }
}
