import BatonCodec
import BatonCore
import BatonEngine

/// A ``WorkflowChange`` with its events encoded on the caller's thread. The snapshot is encoded by
/// the writer, and only for the last change of a workflow in a transaction (earlier ones are
/// superseded within the same atomic commit, so writing them would be wasted work).
struct EncodedChange: Sendable {
    struct EventRow: Sendable {
        var id: Int64
        var type: String
        var time: Int64
        var payload: [UInt8]
    }

    let workflowID: String
    let runID: String?
    let isNew: Bool
    let definitionName: String
    let definitionVersion: Int64
    let status: String
    let startedAt: Int64?
    let closedAt: Int64?
    let lastEventID: Int64
    let expectedLastEventID: Int64
    let state: WorkflowState
    let includesSnapshot: Bool
    let events: [EventRow]
    let timersToStore: [DurableTimer]
    let timersToDelete: [String]
    let tasksToStore: [(task: ActivityTask, input: [UInt8])]
    let tasksToDelete: [AttemptRef]
    let signalRequests: [(requestID: String, eventID: Int64)]
    let durationSamples: [ActivityDurationSample]
    let archiveClosedRunAs: String?
    let circuitBreakers: [CircuitBreakerSnapshot]

    init(_ change: WorkflowChange) throws(BatonError) {
        let state = change.state
        workflowID = change.workflowID
        runID = state.runID
        isNew = change.isNew
        definitionName = state.definitionName
        definitionVersion = Int64(state.definitionVersion)
        status = state.status.rawValue
        startedAt = state.startedAt?.millisecondsSinceEpoch
        closedAt = state.closedAt?.millisecondsSinceEpoch
        lastEventID = state.lastEventID
        expectedLastEventID = (change.events.first?.id ?? state.lastEventID + 1) - 1
        self.state = state
        includesSnapshot = change.includesSnapshot
        var events: [EventRow] = []
        var signals: [(String, Int64)] = []
        events.reserveCapacity(change.events.count)
        for event in change.events {
            events.append(EventRow(
                id: event.id, type: event.kind.typeName, time: event.time.millisecondsSinceEpoch,
                payload: try EventCodec.encode(event.kind)))
            if case .signalReceived(_, _, let requestID?) = event.kind { signals.append((requestID, event.id)) }
        }
        self.events = events
        signalRequests = signals
        timersToStore = change.timersToStore
        timersToDelete = change.timersToDelete
        tasksToStore = change.tasksToStore.map { ($0, Array($0.input.canonicalText.utf8)) }
        tasksToDelete = change.tasksToDelete
        durationSamples = change.durationSamples
        archiveClosedRunAs = change.archiveClosedRunAs
        circuitBreakers = change.circuitBreakers
    }

    /// Moves the closed run stored under `workflowID` (row, history, signal dedupe) to `archive`,
    /// rewriting the snapshot's id, so a new run can take the id.
    private func archiveClosedRun(as archive: String, connection: SQLiteConnection) throws(BatonError) {
        let blobs = try connection.query(
            "SELECT snapshot FROM workflows WHERE id = ? AND status <> 'RUNNING'", [.text(workflowID)]) { $0.blob(0) }
        guard let blob = blobs.first else { return }
        var archived = try SnapshotCodec.decode(blob)
        archived.workflowID = archive
        try connection.run(
            "UPDATE workflows SET id = ?, snapshot = ? WHERE id = ?",
            [.text(archive), .blob(try SnapshotCodec.encode(archived)), .text(workflowID)])
        try connection.run("UPDATE events SET workflow_id = ? WHERE workflow_id = ?", [.text(archive), .text(workflowID)])
        try connection.run("UPDATE signal_dedupe SET workflow_id = ? WHERE workflow_id = ?", [.text(archive), .text(workflowID)])
        try connection.run("DELETE FROM timers WHERE workflow_id = ?", [.text(workflowID)])
        try connection.run("DELETE FROM activity_tasks WHERE workflow_id = ?", [.text(workflowID)])
    }

    func write(to connection: SQLiteConnection, context: GroupCommitWriter.JobContext) throws(BatonError) {
        let closed: SQLiteConnection.Value = closedAt.map { .integer($0) } ?? .null
        if let previous = context.batch.lastWrittenEventIDs[workflowID], previous != expectedLastEventID {
            throw BatonError(.internal, "change of '\(workflowID)' does not continue at event \(previous + 1)")
        }
        context.batch.lastWrittenEventIDs[workflowID] = lastEventID
        let rowEventID = context.batch.rowEventIDs[workflowID] ?? expectedLastEventID
        if !isNew, !context.isLastForKey {
            // Superseded by a later change of this workflow in this transaction; that change
            // writes the snapshot and checks the row still holds `rowEventID`.
            context.batch.rowEventIDs[workflowID] = rowEventID
        } else if isNew {
            if let archive = archiveClosedRunAs { try archiveClosedRun(as: archive, connection: connection) }
            // Without its snapshot, a new run is stored at event 0 (the empty state) and read by folding.
            let snapshot = try SnapshotCodec.encode(includesSnapshot ? state : WorkflowState(workflowID: workflowID))
            let snapshotEventID = includesSnapshot ? lastEventID : 0
            do {
                try connection.run(
                    """
                    INSERT INTO workflows(id, definition_name, definition_version, status, started_at, closed_at,
                        last_event_id, snapshot, snapshot_event_id, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(workflowID), .text(definitionName), .integer(definitionVersion), .text(status),
                     startedAt.map { .integer($0) } ?? .null, closed, .integer(lastEventID), .blob(snapshot),
                     .integer(snapshotEventID), runID.map { .text($0) } ?? .null])
            } catch {
                if SQLiteResultCode.isUniquenessViolation(error) {
                    throw BatonError(.alreadyExists, "workflow '\(workflowID)' already exists")
                }
                throw error
            }
            context.batch.rowEventIDs[workflowID] = lastEventID
        } else {
            let changed: Int
            if includesSnapshot {
                let snapshot = try SnapshotCodec.encode(state)
                changed = try connection.run(
                    """
                    UPDATE workflows SET status = ?, closed_at = ?, last_event_id = ?, snapshot = ?, snapshot_event_id = ?
                    WHERE id = ? AND last_event_id = ?
                    """,
                    [.text(status), closed, .integer(lastEventID), .blob(snapshot), .integer(lastEventID),
                     .text(workflowID), .integer(rowEventID)])
            } else {
                // The snapshot stays where it is; reads fold the events after it.
                changed = try connection.run(
                    "UPDATE workflows SET status = ?, closed_at = ?, last_event_id = ? WHERE id = ? AND last_event_id = ?",
                    [.text(status), closed, .integer(lastEventID), .text(workflowID), .integer(rowEventID)])
            }
            guard changed == 1 else {
                throw BatonError(.internal, "workflow '\(workflowID)' is not at event \(rowEventID); change rejected")
            }
            context.batch.rowEventIDs[workflowID] = lastEventID
        }
        for event in events {
            try connection.run(
                "INSERT INTO events(workflow_id, event_id, type, time, payload) VALUES (?, ?, ?, ?, ?)",
                [.text(workflowID), .integer(event.id), .text(event.type), .integer(event.time), .blob(event.payload)])
        }
        for timer in timersToDelete {
            try connection.run("DELETE FROM timers WHERE workflow_id = ? AND timer_id = ?", [.text(workflowID), .text(timer)])
        }
        for timer in timersToStore {
            try connection.run(
                "INSERT OR REPLACE INTO timers(workflow_id, timer_id, fire_at) VALUES (?, ?, ?)",
                [.text(workflowID), .text(timer.timer), .integer(timer.fireAt.millisecondsSinceEpoch)])
        }
        for task in tasksToDelete {
            try connection.run(
                "DELETE FROM activity_tasks WHERE workflow_id = ? AND step = ? AND attempt = ?",
                [.text(workflowID), .text(task.step), .integer(Int64(task.attempt))])
        }
        for (task, input) in tasksToStore {
            try connection.run(
                """
                INSERT OR REPLACE INTO activity_tasks(workflow_id, step, attempt, activity, task_queue, idempotency_key,
                    input, scheduled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(workflowID), .text(task.step), .integer(Int64(task.attempt)), .text(task.activity),
                 task.taskQueue.map { .text($0) } ?? .null, .text(task.idempotencyKey), .blob(input),
                 .integer(task.scheduledAt.millisecondsSinceEpoch)])
        }
        for sample in durationSamples {
            try connection.run(
                """
                INSERT INTO activity_durations(activity, samples, mean_ms) VALUES (?, 1, ?)
                ON CONFLICT(activity) DO UPDATE SET samples = samples + 1,
                    mean_ms = mean_ms + (excluded.mean_ms - mean_ms) / MIN(samples + 1, \(ActivityDurationEstimate.window))
                """,
                [.text(sample.activity), .real(Double(sample.milliseconds))])
        }
        for (requestID, eventID) in signalRequests {
            try connection.run(
                "INSERT OR IGNORE INTO signal_dedupe(workflow_id, request_id, event_id) VALUES (?, ?, ?)",
                [.text(workflowID), .text(requestID), .integer(eventID)])
        }
        for breaker in circuitBreakers { try SQLiteWorkflowStore.write(breaker, to: connection) }
    }
}
