import BatonCore
import CSQLite

/// One SQLite connection with a prepared-statement cache and closure-scoped transactions.
///
/// A connection is confined: callers must never use it from two threads at once (the store
/// guarantees this with a dedicated writer thread and a lock around the reader).
///
/// ```swift
/// let connection = try SQLiteConnection(path: "/tmp/baton.sqlite")
/// try connection.transaction { connection in
///     try connection.run("INSERT INTO t(x) VALUES (?)", [.integer(1)])
/// }
/// ```
public final class SQLiteConnection: @unchecked Sendable {
    /// A value bound to a statement parameter.
    public enum Value: Sendable {
        /// SQL NULL.
        case null
        /// A 64-bit integer.
        case integer(Int64)
        /// A double.
        case real(Double)
        /// UTF-8 text.
        case text(String)
        /// Bytes.
        case blob([UInt8])
    }

    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (creating if needed) the database at `path`.
    public init(path: String) throws(BatonError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw BatonError(.storage, "cannot open database '\(path)': \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for statement in statements.values { statement.finalize() }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements without parameters.
    public func execute(_ sql: String) throws(BatonError) {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error \(code)"
            sqlite3_free(error)
            throw BatonError(.storage, "SQL failed: \(message)", underlyingCode: Int(sqlite3_extended_errcode(handle)))
        }
    }

    /// The cached prepared statement for `sql`, reset and with `values` bound.
    public func prepare(_ sql: String, _ values: [Value] = []) throws(BatonError) -> SQLiteStatement {
        let statement: SQLiteStatement
        if let cached = statements[sql] {
            statement = cached
            statement.reset()
        } else {
            var raw: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil) == SQLITE_OK, let raw else {
                throw BatonError(
                    .storage, "cannot prepare '\(sql)': \(lastError)", underlyingCode: Int(sqlite3_extended_errcode(handle)))
            }
            statement = SQLiteStatement(raw, connection: self)
            statements[sql] = statement
        }
        try statement.bind(values)
        return statement
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: [Value] = []) throws(BatonError) -> Int {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        guard try statement.step() == false else {
            throw BatonError(.storage, "'\(sql)' returned rows")
        }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps every row.
    public func query<T>(_ sql: String, _ values: [Value] = [], _ row: (SQLiteStatement) throws(BatonError) -> T) throws(BatonError) -> [T] {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        var result: [T] = []
        while try statement.step() { result.append(try row(statement)) }
        return result
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func transaction<T>(_ body: (SQLiteConnection) throws(BatonError) -> T) throws(BatonError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body(self)
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a read transaction: every query in it sees the same committed database state.
    public func readTransaction<T>(_ body: (SQLiteConnection) throws(BatonError) -> T) throws(BatonError) -> T {
        try execute("BEGIN DEFERRED")
        defer { try? execute("COMMIT") }
        return try body(self)
    }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }
}
