/// Bytes of values (as compact JSON) one read may still carry, so a description or a query answer of
/// a run with large values fits a client's message limit: values that do not fit are left out and
/// marked as omitted (they stay in the history, read page by page).
public struct ValueBudget: Sendable {
    /// The most bytes of values a description or a query answer carries (a stock gRPC client accepts
    /// 4 MiB messages; the rest is left for names, statuses and framing).
    public static let readLimit = 3 * 1024 * 1024

    /// Bytes still available.
    public private(set) var remaining: Int

    /// A budget of `bytes`.
    public init(bytes: Int = ValueBudget.readLimit) {
        remaining = bytes
    }

    /// Takes `size` bytes when they fit; false (nothing taken) when they do not.
    public mutating func admit(size: Int) -> Bool {
        guard size <= remaining else { return false }
        remaining -= size
        return true
    }

    /// Takes `value`'s compact size when it fits; false (nothing taken) when it does not. `null` is free.
    public mutating func admit(_ value: JSONValue) -> Bool {
        value == .null || admit(size: value.compactSize)
    }

    /// Takes `bytes` whether or not they fit (values a read always carries, such as the run's input).
    public mutating func charge(_ value: JSONValue) {
        remaining -= value.compactSize
    }
}
