import BatonCore

/// A live view of one workflow: first a ``WorkflowUpdate/Kind/snapshot`` (progress, state and the
/// events after the resume point), then a ``WorkflowUpdate/Kind/change`` whenever new events are
/// committed, in event order with no gaps or repeats; it ends once the workflow is closed and every
/// event was delivered.
///
/// The sequence is pull-based: events are read from the store when the consumer asks for the next
/// item, and a commit only sets a wake-up flag (at most one buffered). A slow consumer therefore
/// gets several commits coalesced into one update (events still complete, progress the newest) and
/// never an unbounded queue.
///
/// ```swift
/// for try await update in runtime.subscribe(id, afterEventID: lastSeen) {
///     render(update.progress)
///     lastSeen = update.events.last?.id ?? lastSeen
/// }
/// ```
public struct WorkflowSubscription: AsyncSequence, Sendable {
    /// An update.
    public typealias Element = WorkflowUpdate
    /// Errors are ``BatonError``s (e.g. `.notFound`).
    public typealias Failure = BatonError

    let runtime: WorkflowRuntime
    let workflowID: String
    let afterEventID: Int64
    /// Most events carried by one update (a long backlog arrives over several updates).
    let pageSize: Int

    /// Creates the iterator (registers for wake-ups before reading anything).
    public func makeAsyncIterator() -> Iterator {
        let (stream, registration) = runtime.hub.wakeUps(workflowID)
        return Iterator(
            runtime: runtime, workflowID: workflowID, cursor: afterEventID, pageSize: pageSize,
            wakeUps: stream.makeAsyncIterator(), registration: registration)
    }

    /// Produces updates on demand.
    public struct Iterator: AsyncIteratorProtocol {
        let runtime: WorkflowRuntime
        let workflowID: String
        var cursor: Int64
        let pageSize: Int
        var wakeUps: AsyncStream<Void>.Iterator
        let registration: WorkflowHub.Registration
        var sentSnapshot = false
        var finished = false

        /// The next update, or `nil` once the workflow is closed and everything was delivered.
        public mutating func next() async throws(BatonError) -> WorkflowUpdate? {
            try await next(isolation: nil)
        }

        /// The next update (isolation-aware form).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(BatonError) -> WorkflowUpdate? {
            if finished { return nil }
            while true {
                // Events first, then state: the state is never older than the events delivered with it.
                let events = try await runtime.store.history(workflowID, afterEventID: cursor, limit: pageSize)
                let (state, definition) = try await runtime.stateAndDefinition(workflowID)
                if let last = events.last { cursor = last.id }
                let caughtUp = cursor >= state.lastEventID
                if !sentSnapshot || !events.isEmpty {
                    let kind: WorkflowUpdate.Kind = sentSnapshot ? .change : .snapshot
                    sentSnapshot = true
                    if state.status.isClosed, caughtUp { finished = true }
                    return WorkflowUpdate(
                        kind: kind, events: events, progress: runtime.progress(of: state, definition: definition), state: state)
                }
                if state.status.isClosed, caughtUp {
                    finished = true
                    return nil
                }
                if caughtUp {
                    guard await wakeUps.next(isolation: actor) != nil else {
                        finished = true
                        return nil
                    }
                }
            }
        }
    }
}

extension WorkflowRuntime {
    /// Subscribes to `workflowID`: a snapshot (progress, state, and the events after `afterEventID`,
    /// read from the store), then every committed change in order, ending after the workflow closes.
    /// Resuming with the last event id seen yields exactly the missed events. Throws (on iteration)
    /// `.notFound` for unknown workflows.
    public func subscribe(_ workflowID: String, afterEventID: Int64 = 0, pageSize: Int = 1000) -> WorkflowSubscription {
        WorkflowSubscription(runtime: self, workflowID: workflowID, afterEventID: afterEventID, pageSize: max(1, pageSize))
    }
}
