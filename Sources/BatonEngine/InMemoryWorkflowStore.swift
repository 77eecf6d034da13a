import BatonCore
import Synchronization

/// A ``WorkflowStore`` in memory, for tests and tools: same contract as the SQLite store, no I/O.
public final class InMemoryWorkflowStore: WorkflowStore {
    struct Contents {
        var snapshots: [String: WorkflowState] = [:]
        var events: [String: [WorkflowEvent]] = [:]
        var timers: [String: [String: DurableTimer]] = [:]
        var tasks: [String: [AttemptRef: ActivityTask]] = [:]
        var definitions: [String: [DefinitionRecord]] = [:]
        var durations: [String: ActivityDurationEstimate] = [:]
        var breakers: [String: CircuitBreakerSnapshot] = [:]
        var commits = 0
    }

    let contents = Mutex(Contents())

    /// Creates an empty store.
    public init() {}

    /// Number of committed changes so far.
    public var commitCount: Int { contents.withLock { $0.commits } }

    /// Armed timers of a workflow, as persisted.
    public func storedTimers(_ workflowID: String) -> [DurableTimer] {
        contents.withLock { Array(($0.timers[workflowID] ?? [:]).values).sorted { $0.timer < $1.timer } }
    }

    /// Ids of the closed runs archived from `workflowID` by ``IDReusePolicy/allowAfterClose``.
    public func archivedRuns(_ workflowID: String) -> [String] {
        contents.withLock { $0.snapshots.keys.filter { $0.hasPrefix(workflowID + "/") }.sorted() }
    }

    /// In-flight activity tasks of a workflow, as persisted.
    public func storedTasks(_ workflowID: String) -> [ActivityTask] {
        contents.withLock { Array(($0.tasks[workflowID] ?? [:]).values).sorted { $0.idempotencyKey < $1.idempotencyKey } }
    }

    /// Applies the change atomically.
    public func commit(_ change: WorkflowChange, isolation: isolated (any Actor)? = #isolation) async throws(BatonError) {
        try contents.withLock { (contents: inout Contents) throws(BatonError) in
            let id = change.workflowID
            if change.isNew, let archive = change.archiveClosedRunAs, let closed = contents.snapshots[id], closed.status.isClosed {
                var archived = closed
                archived.workflowID = archive
                contents.snapshots[archive] = archived
                contents.events[archive] = contents.events[id]
                contents.snapshots[id] = nil
                contents.events[id] = nil
                contents.timers[id] = nil
                contents.tasks[id] = nil
            }
            if change.isNew, contents.snapshots[id] != nil {
                throw BatonError(.alreadyExists, "workflow '\(id)' already exists")
            }
            var history = contents.events[id] ?? []
            for event in change.events {
                guard event.id == Int64(history.count) + 1 else {
                    throw BatonError(.internal, "event \(event.id) of '\(id)' out of sequence")
                }
                history.append(event)
            }
            contents.events[id] = history
            contents.snapshots[id] = change.state
            for timer in change.timersToDelete { contents.timers[id]?[timer] = nil }
            for timer in change.timersToStore { contents.timers[id, default: [:]][timer.timer] = timer }
            for task in change.tasksToDelete { contents.tasks[id]?[task] = nil }
            for task in change.tasksToStore {
                contents.tasks[id, default: [:]][AttemptRef(step: task.step, attempt: task.attempt)] = task
            }
            for sample in change.durationSamples {
                contents.durations[sample.activity] = (contents.durations[sample.activity]
                    ?? ActivityDurationEstimate(samples: 0, meanMilliseconds: 0)).adding(sample.milliseconds)
            }
            for breaker in change.circuitBreakers { contents.breakers[breaker.key] = breaker }
            contents.commits += 1
        }
    }

    /// The persisted circuit breakers.
    public func circuitBreakers() async throws(BatonError) -> [CircuitBreakerSnapshot] {
        contents.withLock { $0.breakers.values.sorted { $0.key < $1.key } }
    }

    /// Persists breaker states changed by a reset.
    public func saveCircuitBreakers(_ snapshots: [CircuitBreakerSnapshot]) async throws(BatonError) {
        contents.withLock { contents in for breaker in snapshots { contents.breakers[breaker.key] = breaker } }
    }

    /// The learned duration estimates.
    public func activityDurations() async throws(BatonError) -> [String: ActivityDurationEstimate] {
        contents.withLock { $0.durations }
    }

    /// Loads a snapshot.
    public func loadWorkflow(_ workflowID: String) async throws(BatonError) -> StoredWorkflow? {
        contents.withLock { $0.snapshots[workflowID].map(StoredWorkflow.init(state:)) }
    }

    /// Loads all open snapshots.
    public func loadOpenWorkflows() async throws(BatonError) -> [StoredWorkflow] {
        contents.withLock { contents in
            contents.snapshots.values.filter { !$0.status.isClosed }.sorted { $0.workflowID < $1.workflowID }
                .map(StoredWorkflow.init(state:))
        }
    }

    /// Reads history.
    public func history(_ workflowID: String, afterEventID: Int64, limit: Int) async throws(BatonError) -> [WorkflowEvent] {
        contents.withLock { Array(($0.events[workflowID] ?? []).filter { $0.id > afterEventID }.prefix(limit)) }
    }

    /// Stores a definition version.
    public func saveDefinition(_ record: DefinitionRecord) async throws(BatonError) {
        try contents.withLock { (contents: inout Contents) throws(BatonError) in
            if contents.definitions[record.name, default: []].contains(where: { $0.version == record.version }) {
                throw BatonError(.alreadyExists, "definition \(record.name) v\(record.version) already exists")
            }
            contents.definitions[record.name, default: []].append(record)
        }
    }

    /// Lists versions.
    public func definitionVersions(_ name: String) async throws(BatonError) -> [DefinitionRecord] {
        contents.withLock { ($0.definitions[name] ?? []).sorted { $0.version < $1.version } }
    }
}
