import BatonCodec
import BatonCore
import BatonEngine
import Synchronization

/// The production ``WorkflowStore``: SQLite in WAL mode, one group-commit writer thread and a small
/// pool of reader threads (``SQLiteReaderPool``), so no read runs on a caller's thread or waits for the
/// writer. Each ``WorkflowChange`` (events + snapshot + timers + tasks) commits atomically.
///
/// ```swift
/// let store = try SQLiteWorkflowStore(path: "/var/lib/baton/baton.sqlite", durability: .full)
/// let runtime = WorkflowRuntime(store: store, clock: SystemClock(epochMilliseconds: nowMs))
/// try await runtime.recover()
/// // …
/// store.close()
/// ```
public final class SQLiteWorkflowStore: WorkflowStore {
    /// The database file.
    public let path: String
    /// The configured durability.
    public let durability: Durability
    private let writer: GroupCommitWriter
    let readers: SQLiteReaderPool
    /// A connection for synchronous inspection (``read(_:)``: tools and tests).
    private let inspector: Mutex<SQLiteConnection>
    private let definitions = Mutex<[String: WorkflowDefinition]>([:])

    /// Opens (creating and migrating if needed) the database at `path`.
    /// - Parameter readers: reader connections (threads) serving reads.
    public init(path: String, durability: Durability = .full, now: Instant = .epoch, readers: Int = 2) throws(BatonError) {
        self.path = path
        self.durability = durability
        let writeConnection = try SQLiteConnection(path: path)
        try Self.configure(writeConnection, durability: durability)
        try Migrations.apply(to: writeConnection, now: now)
        let readConnection = try SQLiteConnection(path: path)
        try Self.configure(readConnection, durability: durability)
        self.readers = try SQLiteReaderPool(path: path, count: readers) { connection throws(BatonError) in
            try Self.configure(connection, durability: durability)
        }
        writer = GroupCommitWriter(connection: writeConnection)
        inspector = Mutex(readConnection)
    }

    /// Applies the store's connection settings (WAL, synchronous per `durability`, caches) to `connection`.
    public static func configure(_ connection: SQLiteConnection, durability: Durability) throws(BatonError) {
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=\(durability == .full ? "FULL" : "NORMAL")")
        try connection.execute("PRAGMA temp_store=MEMORY")
        // 64 MiB page cache: hot index pages of events/workflows stay in memory instead of pread()s.
        try connection.execute("PRAGMA cache_size=-65536")
        // Checkpoint every ~16 MiB of WAL instead of ~4 MiB: fewer, larger copies into the main file.
        try connection.execute("PRAGMA wal_autocheckpoint=4000")
    }

    /// Commits what is queued and stops the writer. Further commits fail with `.unavailable`.
    public func close() {
        writer.stop()
        readers.stop()
    }

    /// Calls `observer` after each committed transaction with its duration and number of changes
    /// (metrics); it runs on the writer's thread and must be quick.
    public func observeCommits(_ observer: @escaping @Sendable (Duration, Int) -> Void) {
        writer.commitObserver.withLock { $0 = Callback { observer($0.0, $0.1) } }
    }

    /// Transactions committed and changes committed by the group-commit writer so far.
    public var writerStatistics: (batches: Int, jobs: Int) { writer.statistics }

    /// Runs `body` synchronously with the inspection connection (for inspection tools and tests;
    /// the store's own reads run on its reader threads).
    public func read<T, E: Error>(_ body: (SQLiteConnection) throws(E) -> T) throws(E) -> T {
        try inspector.withLock { (connection: inout SQLiteConnection) throws(E) -> T in try body(connection) }
    }

    /// Runs `body` on a reader thread inside one read transaction (a consistent committed snapshot).
    func pooledRead<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(BatonError) -> T) async throws(BatonError) -> T {
        try await readers.read { connection throws(BatonError) in try connection.readTransaction(body) }
    }

    /// Commits one change through the group-commit writer; returns after its transaction commits.
    public func commit(_ change: WorkflowChange, isolation: isolated (any Actor)? = #isolation) async throws(BatonError) {
        let rows = try EncodedChange(change)
        do {
            try await writer.submit(isolation: isolation, key: change.workflowID) { connection, context throws(BatonError) in
                try rows.write(to: connection, context: context)
            }
        } catch {
            throw SQLiteResultCode.classifyCommitFailure(error)
        }
    }

    /// Reads fold the events after a run's stored snapshot, so changes may leave the snapshot out.
    public var foldsHistoryTails: Bool { true }

    /// Loads a workflow's current state: its stored snapshot with the events after it folded in.
    public func loadWorkflow(_ workflowID: String) async throws(BatonError) -> StoredWorkflow? {
        let state = try await pooledRead { [self] connection throws(BatonError) -> WorkflowState? in
            let rows = try connection.query(
                """
                SELECT id, snapshot, snapshot_event_id, last_event_id, definition_name, definition_version
                FROM workflows WHERE id = ?
                """, [.text(workflowID)]
            ) { row in SnapshotRow(row) }
            guard let row = rows.first else { return nil }
            return try currentState(row, connection)
        }
        return state.map { StoredWorkflow(state: $0) }
    }

    /// Loads every open workflow.
    public func loadOpenWorkflows() async throws(BatonError) -> [StoredWorkflow] {
        let scan = try await scanOpenWorkflows()
        if let bad = scan.unreadable.first {
            throw BatonError(.storage, "workflow '\(bad.workflowID)' cannot be read: \(bad.error)")
        }
        return scan.workflows
    }

    /// Loads every open workflow; a run whose snapshot or history does not decode is reported, not thrown.
    public func scanOpenWorkflows() async throws(BatonError) -> OpenWorkflowScan {
        try await pooledRead { [self] connection throws(BatonError) -> OpenWorkflowScan in
            let rows = try connection.query(
                """
                SELECT id, snapshot, snapshot_event_id, last_event_id, definition_name, definition_version
                FROM workflows WHERE status = 'RUNNING' ORDER BY id
                """
            ) { row in SnapshotRow(row) }
            var scan = OpenWorkflowScan(workflows: [])
            for row in rows {
                let (name, version) = (row.definitionName, row.definitionVersion)
                do throws(BatonError) {
                    scan.workflows.append(StoredWorkflow(state: try currentState(row, connection)))
                } catch {
                    scan.unreadable.append(UnreadableWorkflow(
                        workflowID: row.id, definitionName: name, definitionVersion: version,
                        error: "\(error.message)\(error.cause.map { " (\($0))" } ?? "")"))
                }
            }
            return scan
        }
    }

    /// The columns a state is read from.
    struct SnapshotRow: Sendable {
        var id: String
        var snapshot: [UInt8]
        /// The event the snapshot is at (nil: at `lastEventID`).
        var snapshotEventID: Int64?
        var lastEventID: Int64
        /// The pinned definition (folding the tail needs it; a snapshot at event 0 does not name it).
        var definitionName: String
        var definitionVersion: Int

        /// Reads `id, snapshot, snapshot_event_id, last_event_id, definition_name, definition_version`
        /// (the first six columns).
        init(_ row: SQLiteStatement) {
            id = row.text(0)
            snapshot = row.blob(1)
            snapshotEventID = row.isNull(2) ? nil : row.integer(2)
            lastEventID = row.integer(3)
            definitionName = row.text(4)
            definitionVersion = Int(row.integer(5))
        }
    }

    /// The snapshot of `row` with the events after it folded in, checked to end at the row's last event.
    func currentState(_ row: SnapshotRow, _ connection: SQLiteConnection) throws(BatonError) -> WorkflowState {
        var state: WorkflowState
        do {
            state = try SnapshotCodec.decode(row.snapshot)
        } catch {
            throw BatonError(.storage, "its snapshot cannot be decoded: \(error.message)", cause: error)
        }
        guard let at = row.snapshotEventID, at < row.lastEventID else { return state }
        let definition = try definition(row.definitionName, row.definitionVersion, connection)
        let tail = try connection.query(
            "SELECT event_id, time, payload FROM events WHERE workflow_id = ? AND event_id > ? ORDER BY event_id",
            [.text(row.id), .integer(at)]
        ) { row in (row.integer(0), row.integer(1), row.blob(2)) }
        for (id, time, payload) in tail {
            let kind: EventKind
            do { kind = try EventCodec.decode(payload) } catch {
                throw BatonError(.storage, "its event \(id) cannot be decoded: \(error.message)", cause: error)
            }
            state.apply(WorkflowEvent(id: id, time: Instant(millisecondsSinceEpoch: time), kind: kind), definition: definition)
        }
        guard state.lastEventID == row.lastEventID else {
            throw BatonError(.storage, "its history ends at event \(state.lastEventID), its row says \(row.lastEventID)")
        }
        return state
    }

    /// A stored definition version, parsed once and cached (folding a snapshot's tail needs it).
    private func definition(_ name: String, _ version: Int, _ connection: SQLiteConnection) throws(BatonError) -> WorkflowDefinition {
        let key = "\(name)@\(version)"
        if let cached = definitions.withLock({ $0[key] }) { return cached }
        let sources = try connection.query(
            "SELECT source FROM definitions WHERE name = ? AND version = ?", [.text(name), .integer(Int64(version))]
        ) { $0.text(0) }
        guard let source = sources.first else {
            throw BatonError(.storage, "its definition \(name) v\(version) is not stored")
        }
        let definition: WorkflowDefinition
        do { definition = try DefinitionParser.parse(source) } catch {
            throw BatonError(.storage, "its definition \(name) v\(version) no longer parses", cause: error)
        }
        definitions.withLock { $0[key] = definition }
        return definition
    }

    /// Reads history in event order.
    public func history(_ workflowID: String, afterEventID: Int64, limit: Int) async throws(BatonError) -> [WorkflowEvent] {
        try await readers.read { connection throws(BatonError) -> [WorkflowEvent] in
            let statement = try connection.prepare(
                "SELECT event_id, time, payload FROM events WHERE workflow_id = ? AND event_id > ? ORDER BY event_id LIMIT ?",
                [.text(workflowID), .integer(afterEventID), .integer(Int64(min(limit, Int(Int64.max))))])
            defer { statement.reset() }
            var events: [WorkflowEvent] = []
            while try statement.step() {
                let kind = try statement.withBlob(2) { bytes throws(BatonError) in try EventCodec.decode(bytes) }
                events.append(WorkflowEvent(
                    id: statement.integer(0), time: Instant(millisecondsSinceEpoch: statement.integer(1)), kind: kind))
            }
            return events
        }
    }

    /// Caps the database at `pages` pages (`PRAGMA max_page_count` on the writer): a size quota; a
    /// commit that needs more space fails like a full disk (RESOURCE_EXHAUSTED, nothing stored).
    public func limitSize(toPages pages: Int64) async throws(BatonError) {
        try await writerSubmit { connection throws(BatonError) in
            _ = try connection.query("PRAGMA max_page_count = \(max(1, pages))") { $0.integer(0) }
        }
    }

    /// Runs `job` in a writer transaction.
    func writerSubmit(_ job: @escaping (SQLiteConnection) throws(BatonError) -> Void) async throws(BatonError) {
        try await writer.submit { connection, _ throws(BatonError) in try job(connection) }
    }

    /// Stores a definition version.
    public func saveDefinition(_ record: DefinitionRecord) async throws(BatonError) {
        try await writer.submit { connection, _ throws(BatonError) in
            do throws(BatonError) {
                try connection.run(
                    "INSERT INTO definitions(name, version, content, source, created_at) VALUES (?, ?, ?, ?, ?)",
                    [.text(record.name), .integer(Int64(record.version)), .text(record.content), .text(record.source),
                     .integer(record.createdAt.millisecondsSinceEpoch)])
            } catch {
                if SQLiteResultCode.isUniquenessViolation(error) {
                    throw BatonError(.alreadyExists, "definition \(record.name) v\(record.version) already exists")
                }
                throw error
            }
        }
    }

    /// Lists the stored versions of a definition.
    public func definitionVersions(_ name: String) async throws(BatonError) -> [DefinitionRecord] {
        try await readers.read { connection throws(BatonError) in
            try connection.query(
                "SELECT name, version, content, source, created_at FROM definitions WHERE name = ? ORDER BY version",
                [.text(name)]
            ) { row in
                DefinitionRecord(
                    name: row.text(0), version: Int(row.integer(1)), content: row.text(2), source: row.text(3),
                    createdAt: Instant(millisecondsSinceEpoch: row.integer(4)))
            }
        }
    }

    /// The learned per-activity duration estimates (the activity_durations table).
    public func activityDurations() async throws(BatonError) -> [String: ActivityDurationEstimate] {
        let rows = try await readers.read { connection throws(BatonError) in
            try connection.query("SELECT activity, samples, mean_ms FROM activity_durations") { row in
                (row.text(0), Int(row.integer(1)), row.real(2))
            }
        }
        var result: [String: ActivityDurationEstimate] = [:]
        for (activity, samples, mean) in rows { result[activity] = ActivityDurationEstimate(samples: samples, meanMilliseconds: mean) }
        return result
    }

    /// Stored timers, earliest first (the timers table).
    public func storedTimers() throws(BatonError) -> [DurableTimer] {
        try read { connection throws(BatonError) in
            try connection.query("SELECT workflow_id, timer_id, fire_at FROM timers ORDER BY fire_at, workflow_id, timer_id") { row in
                DurableTimer(workflowID: row.text(0), timer: row.text(1), fireAt: Instant(millisecondsSinceEpoch: row.integer(2)))
            }
        }
    }

    /// Stored activity tasks as idempotency keys (the activity_tasks table).
    public func storedTaskKeys() throws(BatonError) -> [String] {
        try read { connection throws(BatonError) in
            try connection.query("SELECT idempotency_key FROM activity_tasks ORDER BY idempotency_key") { $0.text(0) }
        }
    }
}
