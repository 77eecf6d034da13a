import Synchronization

/// Response bytes queued for peers and not yet taken by them, counted across every connection of a
/// server against one ceiling, so clients that stop reading cannot grow the server's memory past it.
///
/// Each connection also has its own ceiling (``HTTP2Settings/maxBufferedOutboundPerConnection``);
/// ``HTTP2Stream/outboundRefusal(adding:)`` tells a writer which of the two a new message would pass.
public final class OutboundMemory: Sendable {
    /// The most bytes all connections together may hold for their peers.
    public let limit: Int
    private let used = Atomic<Int>(0)

    /// An account with `limit` bytes.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Bytes queued for peers now.
    public var bytes: Int { used.load(ordering: .relaxed) }

    func add(_ count: Int) {
        used.add(count, ordering: .relaxed)
    }

    func remove(_ count: Int) {
        used.subtract(count, ordering: .relaxed)
    }
}
