import BatonCore

/// The outcome of deciding on one input: events to append and side effects to run after commit.
public struct Decision: Hashable, Sendable {
    /// New history events, in order, already applied to the machine's state.
    public var events: [WorkflowEvent] = []
    /// Side effects, to run only after `events` and the snapshot are committed.
    public var commands: [EngineCommand] = []
    /// Attempts waiting for an external executor, to persist as activity tasks (queue rows).
    /// Attempts started on dispatch (in-process) need no row: the snapshot records them and
    /// recovery re-dispatches them from it.
    public var queuedTasks: [ActivityTask] = []
    /// Queued attempts that are no longer in flight after this decision (their task rows are deleted).
    public var releasedTasks: [AttemptRef] = []
    /// How long each activity attempt completed by this decision ran (start to completion).
    public var durationSamples: [ActivityDurationSample] = []
    /// Circuit-breaker reservations made by this decision: confirmed after its commit, cancelled if
    /// the commit fails (``CircuitBreakerRegistry/confirm(_:)``).
    public var breakerReservations: [Int] = []
    /// Keys of the circuit breakers this decision consulted or fed (their state is persisted with it).
    public var touchedBreakers: [String] = []

    /// An empty decision.
    public init(events: [WorkflowEvent] = [], commands: [EngineCommand] = []) {
        self.events = events
        self.commands = commands
    }

    /// Timers to persist (armed or re-armed by this decision).
    public var timersToStore: [DurableTimer] {
        commands.compactMap { if case .startTimer(let timer) = $0 { return timer } else { return nil } }
    }

    /// Timer ids to delete from the store.
    public var timersToDelete: [String] {
        commands.compactMap { if case .cancelTimer(_, let id) = $0 { return id } else { return nil } }
    }

    /// Every attempt this decision dispatches.
    public var dispatchedTasks: [ActivityTask] {
        commands.compactMap { if case .dispatch(let task) = $0 { return task } else { return nil } }
    }

    /// The status when this decision closed the workflow.
    public var closedStatus: WorkflowStatus? {
        for command in commands { if case .workflowClosed(_, let status) = command { return status } }
        return nil
    }
}
