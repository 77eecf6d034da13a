import BatonCore
import Foundation
import Synchronization

/// Reader connections (WAL readers) on threads of their own: every store read runs here, never on
/// the caller's thread (a NIO event loop) and never behind the writer. A WAL reader sees the last
/// committed transaction as of the start of its read, so readers and the writer never block each other.
///
/// ```swift
/// let pool = try SQLiteReaderPool(path: path, count: 2) { try configure($0) }
/// let n = try await pool.read { connection throws(BatonError) in
///     try connection.query("SELECT count(*) FROM events") { $0.integer(0) }.first ?? 0
/// }
/// ```
final class SQLiteReaderPool: @unchecked Sendable {
    private struct Pending {
        var job: (SQLiteConnection) -> Void
    }

    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var head = 0
    private var stopping = false
    private var running: Int

    /// Opens `count` connections to `path`, configures each, and starts one thread per connection.
    init(path: String, count: Int, configure: (SQLiteConnection) throws(BatonError) -> Void) throws(BatonError) {
        var connections: [SQLiteConnection] = []
        for _ in 0..<max(1, count) {
            let connection = try SQLiteConnection(path: path)
            try configure(connection)
            connections.append(connection)
        }
        running = connections.count
        for (index, connection) in connections.enumerated() {
            let thread = Thread { [self] in run(connection) }
            thread.name = "baton-sqlite-reader-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a reader thread with its connection and returns its result. A caller whose task
    /// is cancelled while its read waits for a reader gets `.cancelled` and the read never runs.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(BatonError) -> T) async throws(BatonError) -> T {
        let cancelled = CancellationFlag()
        let result: Result<T, BatonError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let job: (SQLiteConnection) -> Void = { connection in
                    if cancelled.isSet {
                        continuation.resume(returning: .failure(Self.cancelledError))
                        return
                    }
                    do throws(BatonError) {
                        continuation.resume(returning: .success(try body(connection)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                condition.lock()
                if stopping {
                    condition.unlock()
                    continuation.resume(returning: .failure(BatonError(.unavailable, "the store is closed")))
                    return
                }
                if cancelled.isSet {
                    condition.unlock()
                    continuation.resume(returning: .failure(Self.cancelledError))
                    return
                }
                queue.append(Pending(job: job))
                condition.signal()
                condition.unlock()
            }
        } onCancel: {
            cancelled.set()
        }
        return try result.get()
    }

    private static let cancelledError = BatonError(.cancelled, "the read was cancelled before it ran")

    /// Runs what is queued, then stops the threads (further reads fail with `.unavailable`).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// The thread-dictionary key marking reader threads.
    private static let marker = "baton.sqlite.reader"

    /// Whether the calling thread is one of a pool's reader threads.
    static var onReaderThread: Bool { Thread.current.threadDictionary[marker] != nil }

    private func run(_ connection: SQLiteConnection) {
        Thread.current.threadDictionary[Self.marker] = true
        while true {
            condition.lock()
            while head == queue.count && !stopping { condition.wait() }
            if head == queue.count {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let pending = queue[head]
            head += 1
            if head > 64, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            pending.job(connection)
        }
    }
}

/// Set once a reader's caller is cancelled.
private final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}
