import NIOConcurrencyHelpers
import NIOCore

/// The messages a call has received and its handler has not yet read, shared between the event loop
/// (which appends) and the handler's task (which reads). Reading is single-consumer.
final class InboundMessageQueue: Sendable {
    private struct State {
        var messages = CircularBuffer<ByteBuffer>()
        var bufferedBytes = 0
        var finished = false
        var error: RPCError?
        var waiter: CheckedContinuation<ByteBuffer?, any Error>?
        /// Received bytes whose flow-control window was withheld because the queue was full.
        var owedWindow = 0
    }

    private let state = NIOLockedValueBox(State())
    /// Above this many queued bytes, received bytes are not given back to the peer's window.
    let limit: Int
    /// Gives withheld window back (hops to the event loop).
    private let releaseWindow: @Sendable (Int) -> Void

    init(limit: Int, releaseWindow: @escaping @Sendable (Int) -> Void) {
        self.limit = limit
        self.releaseWindow = releaseWindow
    }

    /// Event loop: whether `count` just-received bytes may be consumed now; if not they are owed.
    func admit(receivedBytes count: Int) -> Bool {
        state.withLockedValue { state in
            if state.bufferedBytes < limit { return true }
            state.owedWindow += count
            return false
        }
    }

    /// Event loop: a whole message arrived.
    func append(_ message: ByteBuffer) {
        let waiter: CheckedContinuation<ByteBuffer?, any Error>? = state.withLockedValue { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.messages.append(message)
            state.bufferedBytes += message.readableBytes
            return nil
        }
        waiter?.resume(returning: message)
    }

    /// Event loop: no more messages (`error` nil: the peer half-closed normally).
    func finish(error: RPCError? = nil) {
        let waiter: CheckedContinuation<ByteBuffer?, any Error>? = state.withLockedValue { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.error = error
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    /// Handler: the next message, nil at the end; throws if the call failed.
    func next() async throws -> ByteBuffer? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            enum Outcome { case message(ByteBuffer, owed: Int), end, failed(RPCError), wait }
            let outcome: Outcome = state.withLockedValue { state in
                if let message = state.messages.popFirst() {
                    state.bufferedBytes -= message.readableBytes
                    var owed = 0
                    if state.owedWindow > 0, state.bufferedBytes < limit {
                        owed = state.owedWindow
                        state.owedWindow = 0
                    }
                    return .message(message, owed: owed)
                }
                if state.finished {
                    if let error = state.error { return .failed(error) }
                    return .end
                }
                state.waiter = continuation
                return .wait
            }
            switch outcome {
            case .message(let message, let owed):
                if owed > 0 { releaseWindow(owed) }
                continuation.resume(returning: message)
            case .end: continuation.resume(returning: nil)
            case .failed(let error): continuation.resume(throwing: error)
            case .wait: break
            }
        }
    }
}
