import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import BatonRPC
import Synchronization

/// Serves every progress stream of a run — `GET /v1/workflows/{id}/progress` and StreamProgress over
/// gRPC, gRPC-Web and Connect — from one subscription: the run's progress is computed and encoded
/// once per change and handed to each of its streams. A waiting stream holds no subscription and no
/// deep call stack, only a small ``Listener``, so thousands of open streams cost little memory. A slow
/// client never holds the others back: its listener keeps only the newest progress (progress is a
/// state, not a log), then the end.
///
/// Progress streams resume by nature: a client reconnecting after event N gets the current progress
/// as soon as it is past N.
final class ProgressFanout: Sendable {
    /// Writes one message to a stream's client; `opened` is false for the stream's first message.
    /// Returns false when the stream is over (after the end, or a failure the client was told of).
    typealias Deliver = @Sendable (_ message: Message, _ opened: Bool) async throws -> Bool

    private let runtime: WorkflowRuntime
    private let groups = Mutex<[String: Group]>([:])

    init(runtime: WorkflowRuntime) {
        self.runtime = runtime
    }

    /// Streams `workflowID`'s progress through `deliver` until the run closes, the client leaves (the
    /// task is cancelled) or `deliver` says the stream is over. Progress at or before event `after`
    /// is not sent.
    func follow(_ workflowID: String, after: Int64, _ deliver: @escaping Deliver) async {
        let listener = Listener(after: after, deliver: deliver)
        // Found (or made) and joined under one lock: a group is only dropped while it has no listener.
        let (group, start) = groups.withLock { groups in
            let group = groups[workflowID] ?? Group()
            groups[workflowID] = group
            return (group, group.add(listener))
        }
        if start {
            let runtime = self.runtime
            group.start { [weak self] in
                await Self.run(group, runtime: runtime, workflowID: workflowID)
                self?.remove(group, workflowID)
            }
        }
        await withTaskCancellationHandler {
            await listener.wait()
        } onCancel: {
            listener.stop()
        }
        if group.remove(listener) { remove(group, workflowID) }
    }

    /// The group's subscription: every update goes to every listener, then `end` (or the error).
    private static func run(_ group: Group, runtime: WorkflowRuntime, workflowID: String) async {
        var status = WorkflowStatus.running
        do {
            for try await update in runtime.subscribe(workflowID) {
                if Task.isCancelled { return }
                status = update.progress.status
                let message = update.progress.proto
                let text = EventStreams.event("progress", id: update.progress.lastEventID, data: try ProtoJSON.string(message))
                group.publish(.progress(id: update.progress.lastEventID, message: message, text: text))
            }
            if Task.isCancelled { return }
            group.publish(.end(EventStreams.event("end", data: "{\"status\":\"WORKFLOW_STATUS_\(status.rawValue)\"}")))
        } catch {
            let mapped = (error as? BatonError)?.rpcError ?? RPCError(code: .internal, message: "\(error)")
            group.publish(.failed(mapped))
        }
    }

    private func remove(_ group: Group, _ workflowID: String) {
        let removed = groups.withLock { groups -> Bool in
            guard groups[workflowID] === group, group.isEmptyOrDone else { return false }
            groups[workflowID] = nil
            return true
        }
        if removed { group.cancel() }
    }

    /// What a group tells its listeners.
    enum Message: Sendable {
        /// The newest progress: the message, and its text as an SSE event.
        case progress(id: Int64, message: Baton_V1_Progress, text: String)
        /// The run closed: the final SSE event.
        case end(String)
        /// The run cannot be followed (e.g. it is unknown).
        case failed(RPCError)
        /// The run exists and the stream may open, but the newest progress is one the client has
        /// (it resumed at or after it): nothing to send yet.
        case ready
    }

    /// The streams of one run and what they have been told.
    final class Group: Sendable {
        private struct State {
            var listeners: [ObjectIdentifier: Listener] = [:]
            var latest: Message?
            var last: Message?
            var task: Task<Void, Never>?
            var started = false
        }

        private let state = Mutex(State())

        /// Adds a listener and tells it what is known; true when the subscription must be started.
        func add(_ listener: Listener) -> Bool {
            let (latest, last, start) = state.withLock { state in
                state.listeners[ObjectIdentifier(listener)] = listener
                defer { state.started = true }
                return (state.latest, state.last, !state.started)
            }
            if let latest { listener.offer(latest) }
            if let last { listener.offer(last) }
            return start
        }

        /// Removes a listener; true when none is left.
        func remove(_ listener: Listener) -> Bool {
            state.withLock { state in
                state.listeners[ObjectIdentifier(listener)] = nil
                return state.listeners.isEmpty
            }
        }

        var isEmptyOrDone: Bool { state.withLock { $0.listeners.isEmpty || $0.last != nil } }

        func start(_ body: @escaping @Sendable () async -> Void) {
            let task = Task { await body() }
            state.withLock { $0.task = task }
        }

        func cancel() {
            state.withLock { $0.task }?.cancel()
        }

        func publish(_ message: Message) {
            let listeners = state.withLock { state -> [Listener] in
                switch message {
                case .progress: state.latest = message
                case .end, .failed: state.last = message
                case .ready: break
                }
                return Array(state.listeners.values)
            }
            for listener in listeners { listener.offer(message) }
        }
    }

    /// One client's stream: what it still has to write, written in order by at most one task at a time
    /// (started when there is something to write, gone when there is not).
    final class Listener: Sendable {
        private struct State {
            var opened = false
            var queue: [Message] = []
            var writing = false
            var finished = false
            var waiter: CheckedContinuation<Void, Never>?
        }

        private let after: Int64
        private let deliver: Deliver
        private let state = Mutex(State())

        init(after: Int64, deliver: @escaping Deliver) {
            self.after = after
            self.deliver = deliver
        }

        /// Queues a message (a newer progress replaces one not yet written) and starts a writer if none runs.
        func offer(_ message: Message) {
            var message = message
            if case .progress(let id, _, _) = message, id <= after { message = .ready }
            let start = state.withLock { state -> Bool in
                guard !state.finished else { return false }
                if case .ready = message, state.opened || !state.queue.isEmpty { return false }
                if case .progress = message, let index = state.queue.lastIndex(where: {
                    if case .progress = $0 { return true } else { return false }
                }) {
                    state.queue[index] = message
                } else {
                    state.queue.append(message)
                }
                if state.writing { return false }
                state.writing = true
                return true
            }
            if start { Task { await self.drain() } }
        }

        private func drain() async {
            while true {
                let next = state.withLock { state -> (Message, Bool)? in
                    guard !state.finished, !state.queue.isEmpty else {
                        state.writing = false
                        return nil
                    }
                    defer { state.opened = true }
                    return (state.queue.removeFirst(), state.opened)
                }
                guard let (message, opened) = next else { return }
                let more = (try? await deliver(message, opened)) ?? false
                if !more { return stop() }
            }
        }

        /// Suspends until the stream is over.
        func wait() async {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state -> Bool in
                    if state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        }

        /// Ends the stream (run closed, write failed, client gone, shutdown).
        func stop() {
            let waiter = state.withLock { state in
                state.finished = true
                state.queue = []
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
