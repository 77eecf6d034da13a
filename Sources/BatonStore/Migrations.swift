import BatonCore

/// The schema as named, append-only migrations. Never edit a shipped migration: add a new one.
public enum Migrations {
    /// One named schema change.
    public struct Migration: Sendable {
        /// Unique name, recorded in the `migrations` table once applied.
        public var name: String
        /// The SQL to run.
        public var sql: String
        /// Row conversions to run after the SQL, in the same transaction.
        public var transform: (@Sendable (SQLiteConnection) throws(BatonError) -> Void)?

        /// Creates a migration.
        public init(name: String, sql: String, transform: (@Sendable (SQLiteConnection) throws(BatonError) -> Void)? = nil) {
            self.name = name
            self.sql = sql
            self.transform = transform
        }
    }

    /// All migrations in order.
    public static let all: [Migration] = [
        Migration(
            name: "0001_initial",
            sql: """
                CREATE TABLE definitions(
                    name TEXT NOT NULL, version INTEGER NOT NULL, content TEXT NOT NULL, source TEXT NOT NULL,
                    created_at INTEGER NOT NULL, PRIMARY KEY(name, version)) WITHOUT ROWID;
                CREATE TABLE workflows(
                    id TEXT PRIMARY KEY, definition_name TEXT NOT NULL, definition_version INTEGER NOT NULL,
                    status TEXT NOT NULL, started_at INTEGER, closed_at INTEGER, last_event_id INTEGER NOT NULL,
                    snapshot BLOB NOT NULL);
                CREATE INDEX workflows_status ON workflows(status, started_at);
                CREATE INDEX workflows_definition ON workflows(definition_name, started_at);
                CREATE TABLE events(
                    workflow_id TEXT NOT NULL, event_id INTEGER NOT NULL, type TEXT NOT NULL, time INTEGER NOT NULL,
                    payload BLOB NOT NULL, PRIMARY KEY(workflow_id, event_id)) WITHOUT ROWID;
                CREATE TABLE timers(
                    workflow_id TEXT NOT NULL, timer_id TEXT NOT NULL, fire_at INTEGER NOT NULL,
                    PRIMARY KEY(workflow_id, timer_id)) WITHOUT ROWID;
                CREATE INDEX timers_fire_at ON timers(fire_at);
                CREATE TABLE activity_tasks(
                    workflow_id TEXT NOT NULL, step TEXT NOT NULL, attempt INTEGER NOT NULL, activity TEXT NOT NULL,
                    task_queue TEXT, idempotency_key TEXT NOT NULL, input BLOB NOT NULL, scheduled_at INTEGER NOT NULL,
                    lease_owner TEXT, lease_expires_at INTEGER, heartbeat_details BLOB,
                    PRIMARY KEY(workflow_id, step, attempt)) WITHOUT ROWID;
                CREATE INDEX activity_tasks_queue ON activity_tasks(task_queue, scheduled_at);
                CREATE TABLE signal_dedupe(
                    workflow_id TEXT NOT NULL, request_id TEXT NOT NULL, event_id INTEGER NOT NULL,
                    PRIMARY KEY(workflow_id, request_id)) WITHOUT ROWID;
                """),
        Migration(
            name: "0002_activity_durations",
            sql: """
                CREATE TABLE activity_durations(
                    activity TEXT PRIMARY KEY, samples INTEGER NOT NULL, mean_ms REAL NOT NULL) WITHOUT ROWID;
                """),
        Migration(
            // The event id the stored snapshot is at (NULL: at last_event_id, as in every row written
            // before this migration). Reads fold the events after it, so a change may leave the snapshot
            // out (the engine stores one at start, at close and every max(64, steps) events).
            name: "0003_snapshot_event_id",
            sql: """
                ALTER TABLE workflows ADD COLUMN snapshot_event_id INTEGER;
                """),
        Migration(
            // Task leases and heartbeat details live in the engine (history and the dispatcher), never
            // in the task row: these columns were never written.
            name: "0004_drop_unused_task_columns",
            sql: """
                ALTER TABLE activity_tasks DROP COLUMN lease_owner;
                ALTER TABLE activity_tasks DROP COLUMN lease_expires_at;
                ALTER TABLE activity_tasks DROP COLUMN heartbeat_details;
                """),
        Migration(
            // History and snapshots become protobuf (format 2, baton.storage.v1): every format-1 (JSON)
            // event payload and snapshot is decoded and re-encoded in place.
            name: "0005_protobuf_history", sql: "", transform: FormatMigration.convertToProtobuf),
        Migration(
            // The committed state of every circuit breaker, written with the decisions that change it
            // and restored at recovery (a restart no longer closes every breaker).
            name: "0006_circuit_breakers",
            sql: """
                CREATE TABLE circuit_breakers(
                    key TEXT PRIMARY KEY, state TEXT NOT NULL, consecutive_failures INTEGER NOT NULL,
                    recent TEXT NOT NULL, changed_at INTEGER, opened_at INTEGER, trials INTEGER NOT NULL) WITHOUT ROWID;
                """),
        Migration(
            // Each run has its own run id (recorded in WorkflowStarted), listed beside the workflow id.
            // Runs stored before keep NULL: their run id is derived (RunKey.runID(key:recorded:startedAt:)).
            name: "0007_run_ids",
            sql: """
                ALTER TABLE workflows ADD COLUMN run_id TEXT;
                """),
    ]

    /// Applies every migration not yet recorded, each in its own transaction; returns the names applied.
    @discardableResult
    public static func apply(to connection: SQLiteConnection, now: Instant) throws(BatonError) -> [String] {
        try connection.execute("CREATE TABLE IF NOT EXISTS migrations(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let applied = Set(try connection.query("SELECT name FROM migrations") { row throws(BatonError) in row.text(0) })
        var names: [String] = []
        for migration in all where !applied.contains(migration.name) {
            try connection.transaction { connection throws(BatonError) in
                if !migration.sql.isEmpty { try connection.execute(migration.sql) }
                try migration.transform?(connection)
                try connection.run(
                    "INSERT INTO migrations(name, applied_at) VALUES (?, ?)",
                    [.text(migration.name), .integer(now.millisecondsSinceEpoch)])
            }
            names.append(migration.name)
        }
        return names
    }
}
