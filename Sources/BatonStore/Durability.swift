/// How hard a commit tries to survive a crash.
public enum Durability: String, Sendable, Hashable, CaseIterable {
    /// `synchronous=FULL`: an acknowledged call survives power loss (default).
    case full
    /// `synchronous=NORMAL`: survives a process crash; the last commits may be lost on power loss. Faster.
    case normal
}
