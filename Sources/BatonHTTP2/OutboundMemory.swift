import Synchronization

/// Response bytes queued for peers and not yet taken by them, counted across every connection of a
/// server against one ceiling, so clients that stop reading cannot grow the server's memory past it.
///
/// Each connection holds an ``Account``. When a message would pass the ceiling, the connections
/// holding more unread bytes than the writer's are closed (largest first) until there is room: a
/// client that reads what it asked for is served even while others hoard responses, and a hoarder
/// cannot keep the server full for long. The writer is refused only when it holds the most itself.
/// Each connection also has its own ceiling (``HTTP2Settings/maxBufferedOutboundPerConnection``);
/// ``HTTP2Stream/outboundRefusal(adding:)`` applies both.
public final class OutboundMemory: Sendable {
    /// One connection's unread response bytes, and how to close that connection to reclaim them.
    public final class Account: Sendable {
        fileprivate let bytes = Atomic<Int>(0)
        fileprivate let isEvicted = Atomic<Bool>(false)
        fileprivate let evict: @Sendable () -> Void

        fileprivate init(evict: @escaping @Sendable () -> Void) {
            self.evict = evict
        }

        /// Unread bytes this connection holds.
        public var unreadBytes: Int { bytes.load(ordering: .relaxed) }
    }

    /// The most bytes all connections together may hold for their peers.
    public let limit: Int
    private let used = Atomic<Int>(0)
    private let evictions = Atomic<Int>(0)
    private let accounts = Mutex<[ObjectIdentifier: Account]>([:])

    /// An account with `limit` bytes.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Bytes queued for peers now.
    public var bytes: Int { used.load(ordering: .relaxed) }

    /// Connections closed so far because they held the most unread bytes when room was needed.
    public var evictedConnections: Int { evictions.load(ordering: .relaxed) }

    /// Opens the account of a new connection; `evict` closes that connection (from any thread).
    func open(evict: @escaping @Sendable () -> Void) -> Account {
        let account = Account(evict: evict)
        accounts.withLock { $0[ObjectIdentifier(account)] = account }
        return account
    }

    /// Forgets a closed connection's account (its bytes were released with its streams).
    func close(_ account: Account) {
        _ = accounts.withLock { $0.removeValue(forKey: ObjectIdentifier(account)) }
    }

    func add(_ count: Int, to account: Account) {
        account.bytes.add(count, ordering: .relaxed)
        used.add(count, ordering: .relaxed)
    }

    func remove(_ count: Int, from account: Account) {
        account.bytes.subtract(count, ordering: .relaxed)
        used.subtract(count, ordering: .relaxed)
    }

    /// Whether `count` more bytes may be queued on `account`'s connection: at once when they fit, else
    /// after closing the connections that hold more unread bytes than this one would (largest first)
    /// until they would fit. False (nothing closed) when not even that makes room.
    func admit(_ count: Int, for account: Account) -> Bool {
        if account.isEvicted.load(ordering: .relaxed) { return false }
        let total = used.load(ordering: .relaxed)
        if total + count <= limit { return true }
        let victims: [Account]? = accounts.withLock { accounts in
            let mine = account.bytes.load(ordering: .relaxed) + count
            // Bytes of connections already closing are as good as free.
            var need = total + count - limit
            var candidates: [(account: Account, bytes: Int)] = []
            for other in accounts.values where other !== account {
                let bytes = other.bytes.load(ordering: .relaxed)
                if other.isEvicted.load(ordering: .relaxed) {
                    need -= bytes
                } else if bytes > mine {
                    candidates.append((other, bytes))
                }
            }
            if need <= 0 { return [] }
            candidates.sort { $0.bytes > $1.bytes }
            var chosen: [Account] = []
            for candidate in candidates where need > 0 {
                chosen.append(candidate.account)
                need -= candidate.bytes
            }
            guard need <= 0 else { return nil }
            for victim in chosen { victim.isEvicted.store(true, ordering: .relaxed) }
            return chosen
        }
        guard let victims else { return false }
        evictions.add(victims.count, ordering: .relaxed)
        for victim in victims { victim.evict() }
        return true
    }
}
