import BatonCore
import BatonEngine
import Foundation
import Synchronization
import Testing

@testable import BatonStore

/// Reads run on the store's reader threads, never on the caller's and never behind the writer.
@Suite(.timeLimit(.minutes(2))) struct SQLiteReaderPoolTests {
    /// Starts `run` with a job that blocks its thread until `release` is signalled; returns once the
    /// job is running (so the thread it occupies is known to be busy).
    static func blocked(
        _ release: DispatchSemaphore,
        _ run: @escaping @Sendable (@escaping @Sendable (SQLiteConnection) throws(BatonError) -> Void) async throws -> Void
    ) async -> Task<Void, any Error> {
        let entered = DispatchSemaphore(value: 0)
        let task = Task {
            try await run { _ throws(BatonError) in
                entered.signal()
                release.wait()
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                entered.wait()
                continuation.resume()
            }
        }
        return task
    }

    @Test func readsRunOnReaderThreadsWhileTheWriterIsInsideATransaction() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        _ = try await DefinitionRegistry(store: store).register(source: "name: d\nsteps:\n  a: { activity: x }\n", now: .epoch)

        // The writer takes a transaction and holds it until the test lets go.
        let release = DispatchSemaphore(value: 0)
        let writing = await Self.blocked(release) { job in try await store.writerSubmit(job) }
        // While the writer is blocked mid-transaction, reads still answer (WAL readers).
        #expect(try await store.definitionVersions("d").count == 1)
        #expect(try await store.pooledRead { _ throws(BatonError) in SQLiteReaderPool.onReaderThread })
        #expect(!SQLiteReaderPool.onReaderThread)
        release.signal()
        try await writing.value
    }

    @Test func aCancelledCallerWaitingForAReaderGetsCancelledAndItsReadNeverRuns() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path, readers: 1)
        defer { store.close() }
        // The only reader is busy until the test lets go.
        let release = DispatchSemaphore(value: 0)
        let busy = await Self.blocked(release) { job in try await store.pooledRead(job) }
        let ran = Mutex(false)
        let waiting = Task { try await store.pooledRead { _ throws(BatonError) in ran.withLock { $0 = true } } }
        waiting.cancel()
        release.signal()
        try await busy.value
        do {
            try await waiting.value
            Issue.record("the cancelled read completed")
        } catch let error as BatonError {
            #expect(error.code == .cancelled)
        }
        #expect(!ran.withLock { $0 })
    }
}
