import BatonCore

/// A live view of one workflow: first a ``WorkflowUpdate/Kind/snapshot`` (progress, state and the
/// events after the resume point), then a ``WorkflowUpdate/Kind/change`` whenever new events are
/// committed, in event order with no gaps or repeats; it ends once the workflow is closed and every
/// event was delivered. Only committed states and events are ever delivered.
///
/// The snapshot is read from the store; later changes come from memory (the shard hands each
/// committed change to the subscription's mailbox) and the store is read again only to fill a gap a
/// slow consumer let its bounded mailbox drop. Several commits that arrive while the consumer is busy
/// are coalesced into one update (events still complete, progress the newest), never an unbounded queue.
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

    /// Creates the iterator (registers for changes before reading anything).
    public func makeAsyncIterator() -> Iterator {
        let (stream, registration) = runtime.hub.subscribe(workflowID)
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
        /// The newest committed state seen, and the run's definition (both set by the snapshot).
        var latest: (state: WorkflowState, definition: WorkflowDefinition)?
        var finished = false

        /// The next update, or `nil` once the workflow is closed and everything was delivered.
        public mutating func next() async throws(BatonError) -> WorkflowUpdate? {
            try await next(isolation: nil)
        }

        /// The next update (isolation-aware form).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(BatonError) -> WorkflowUpdate? {
            if finished { return nil }
            guard let known = latest else {
                // State first, then the events up to it: never an event the state does not include yet.
                let (state, definition) = try await runtime.stateAndDefinition(workflowID)
                latest = (state, definition)
                let events = try await Self.page(runtime, workflowID, after: cursor, pageSize, [], upTo: state)
                return update(.snapshot, events: events, state: state, definition: definition)
            }
            var state = known.state
            let definition = known.definition
            while true {
                let mail = registration.mailbox.take()
                if let newer = mail.state, newer.lastEventID >= state.lastEventID {
                    state = newer
                    latest = (state, definition)
                }
                var events = mail.overflowed ? [] : mail.events.filter { $0.id > cursor }
                if let first = events.first, first.id != cursor + 1 { events = [] }
                if !events.isEmpty || cursor < state.lastEventID {
                    let page = try await Self.page(runtime, workflowID, after: cursor, pageSize, events, upTo: state)
                    return update(.change, events: page, state: state, definition: definition)
                }
                if state.status.isClosed {
                    finished = true
                    return nil
                }
                guard await wakeUps.next(isolation: actor) != nil else {
                    finished = true
                    return nil
                }
            }
        }

        /// `events` (read from the store after `cursor` when empty), at most a page, never past `state`.
        private static func page(
            _ runtime: WorkflowRuntime, _ workflowID: String, after cursor: Int64, _ pageSize: Int, _ events: [WorkflowEvent],
            upTo state: WorkflowState
        ) async throws(BatonError) -> [WorkflowEvent] {
            var events = events
            if events.isEmpty, cursor < state.lastEventID {
                events = try await runtime.store.history(workflowID, afterEventID: cursor, limit: pageSize)
            }
            return Array(events.prefix { $0.id <= state.lastEventID }.prefix(pageSize))
        }

        /// The update carrying `events`; moves the cursor past them.
        private mutating func update(
            _ kind: WorkflowUpdate.Kind, events: [WorkflowEvent], state: WorkflowState, definition: WorkflowDefinition
        ) -> WorkflowUpdate {
            if let last = events.last { cursor = last.id }
            if state.status.isClosed, cursor >= state.lastEventID { finished = true }
            return WorkflowUpdate(
                kind: kind, events: events, progress: runtime.progress(of: state, definition: definition), state: state)
        }
    }
}

extension WorkflowRuntime {
    /// Runs that start or close from now on, for live lists (see ``WorkflowRunFeed``).
    public var runFeed: WorkflowRunFeed { hub.runs }

    /// Subscribes to `workflowID`: a snapshot (progress, state, and the events after `afterEventID`,
    /// read from the store), then every committed change in order, ending after the workflow closes.
    /// Resuming with the last event id seen yields exactly the missed events. Throws (on iteration)
    /// `.notFound` for unknown workflows.
    public func subscribe(_ workflowID: String, afterEventID: Int64 = 0, pageSize: Int = 1000) -> WorkflowSubscription {
        WorkflowSubscription(runtime: self, workflowID: workflowID, afterEventID: afterEventID, pageSize: max(1, pageSize))
    }
}
