import Foundation
import Synchronization

/// A child process for crash tests: its stdout is read on a thread of its own with `read(2)`, retried
/// on EINTR (Foundation's `FileHandle.availableData` traps on an interrupted call), and every wait —
/// for output, for the exit — is an event with a deadline, never a poll.
final class ChildProcess: Sendable {
    /// How the child ended.
    struct Exit: Sendable {
        var status: Int32
        var killedBySignal: Bool
    }

    private struct State {
        var output = Data()
        var eof = false
        var exit: Exit?
        /// Waiters resumed when output arrives, EOF is reached or the process exits.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    /// The state, shared with the reader thread and the termination handler.
    private final class Shared: Sendable {
        let lock = Mutex(State())

        /// Changes the state and wakes every waiter.
        func update(_ change: (inout State) -> Void) {
            let waiters = lock.withLock { state -> [CheckedContinuation<Void, Never>] in
                change(&state)
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    private let shared = Shared()
    private let pid: Int32

    /// Starts `binary` with `arguments`; stderr goes to the test's stderr.
    init(_ binary: URL, arguments: [String]) throws {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        let shared = self.shared
        process.terminationHandler = { process in
            let exit = Exit(status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal)
            shared.update { $0.exit = exit }
        }
        try process.run()
        pid = process.processIdentifier
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                shared.update { $0.output.append(contentsOf: buffer[0..<count]) }
            }
            shared.update { $0.eof = true }
            withExtendedLifetime(pipe) {}
        }
        reader.start()
    }

    /// Waits until `condition` holds for the output so far (or the output ended, or `timeout` passed);
    /// returns whether it holds.
    func waitForOutput(timeout: Duration, until condition: @escaping (Data) -> Bool) async -> Bool {
        let result = await wait(timeout: timeout) { state -> Bool? in
            if condition(state.output) { return true }
            return state.eof ? false : nil
        }
        return result ?? false
    }

    /// Sends SIGKILL.
    func kill() {
        _ = Foundation.kill(pid, SIGKILL)
    }

    /// Waits for the exit and the end of the output; kills the child and throws after `timeout`.
    func finish(timeout: Duration) async throws -> (exit: Exit, output: Data) {
        let result = await wait(timeout: timeout) { state -> (exit: Exit, output: Data)? in
            guard let exit = state.exit, state.eof else { return nil }
            return (exit, state.output)
        }
        guard let result else {
            kill()
            throw ChildProcessError(message: "the child process \(pid) did not exit within \(timeout)")
        }
        return result
    }

    /// Evaluates `ready` on every change of the state until it returns a value, or `timeout` passes (nil).
    /// The check and the waiter's registration happen under one lock, so no change is missed.
    private func wait<T>(timeout: Duration, _ ready: @escaping (State) -> T?) async -> T? {
        let deadline = ContinuousClock.now + timeout
        let shared = self.shared
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            shared.update { _ in }
        }
        defer { timer.cancel() }
        while true {
            let box = ResultBox<T>()
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = shared.lock.withLock { state -> Bool in
                    if let value = ready(state) {
                        box.value = value
                        return true
                    }
                    if ContinuousClock.now >= deadline { return true }
                    state.waiters[state.nextWaiter] = continuation
                    state.nextWaiter += 1
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            if let value = box.value { return value }
            if ContinuousClock.now >= deadline { return shared.lock.withLock { ready($0) } }
        }
    }
}

/// Carries a value out of a lock's closure.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// A child process did not behave within its deadline.
struct ChildProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
