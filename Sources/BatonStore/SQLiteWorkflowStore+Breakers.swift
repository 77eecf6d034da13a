import BatonCore
import BatonEngine

extension SQLiteWorkflowStore {
    /// The persisted circuit breakers (the circuit_breakers table).
    public func circuitBreakers() async throws(BatonError) -> [CircuitBreakerSnapshot] {
        try await readers.read { connection throws(BatonError) in
            try connection.query(
                "SELECT key, state, consecutive_failures, recent, changed_at, opened_at, trials FROM circuit_breakers ORDER BY key"
            ) { row throws(BatonError) in
                guard let state = CircuitState(rawValue: row.text(1)) else {
                    throw BatonError(.storage, "circuit breaker '\(row.text(0))' has an unknown state '\(row.text(1))'")
                }
                return CircuitBreakerSnapshot(
                    key: row.text(0), state: state, consecutiveFailures: Int(row.integer(2)),
                    recent: row.text(3).map { $0 == "1" },
                    changedAt: row.isNull(4) ? nil : Instant(millisecondsSinceEpoch: row.integer(4)),
                    openedAt: row.isNull(5) ? nil : Instant(millisecondsSinceEpoch: row.integer(5)),
                    trials: Int(row.integer(6)))
            }
        }
    }

    /// Persists breaker states changed by a reset.
    public func saveCircuitBreakers(_ snapshots: [CircuitBreakerSnapshot]) async throws(BatonError) {
        guard !snapshots.isEmpty else { return }
        try await writerSubmit { connection throws(BatonError) in
            for snapshot in snapshots { try Self.write(snapshot, to: connection) }
        }
    }

    /// Writes (or replaces) one breaker's row.
    static func write(_ snapshot: CircuitBreakerSnapshot, to connection: SQLiteConnection) throws(BatonError) {
        try connection.run(
            """
            INSERT OR REPLACE INTO circuit_breakers(key, state, consecutive_failures, recent, changed_at, opened_at, trials)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(snapshot.key), .text(snapshot.state.rawValue), .integer(Int64(snapshot.consecutiveFailures)),
             .text(String(snapshot.recent.map { $0 ? "1" : "0" })),
             snapshot.changedAt.map { .integer($0.millisecondsSinceEpoch) } ?? .null,
             snapshot.openedAt.map { .integer($0.millisecondsSinceEpoch) } ?? .null, .integer(Int64(snapshot.trials))])
    }
}
