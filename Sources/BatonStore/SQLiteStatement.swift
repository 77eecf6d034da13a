import BatonCore
import CSQLite

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement owned by a ``SQLiteConnection``'s cache.
public final class SQLiteStatement {
    let raw: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    func finalize() { sqlite3_finalize(raw) }

    /// Resets the statement and clears its bindings.
    public func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    func bind(_ values: [SQLiteConnection.Value]) throws(BatonError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(raw, index)
            case .integer(let number): code = sqlite3_bind_int64(raw, index, number)
            case .real(let number): code = sqlite3_bind_double(raw, index, number)
            case .text(let text): code = sqlite3_bind_text(raw, index, text, -1, transient)
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { sqlite3_bind_blob(raw, index, $0.baseAddress, Int32($0.count), transient) }
            }
            if code != SQLITE_OK { throw BatonError(.storage, "bind failed: \(connection.lastError)") }
        }
    }

    /// Advances to the next row; false when done.
    public func step() throws(BatonError) -> Bool {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let message = connection.lastError
            sqlite3_reset(raw)
            throw BatonError(.storage, "statement failed (\(code)): \(message)", underlyingCode: Int(code))
        }
    }

    /// Integer column `index` (0-based).
    public func integer(_ index: Int32) -> Int64 { sqlite3_column_int64(raw, index) }

    /// Double column `index` (0-based).
    public func real(_ index: Int32) -> Double { sqlite3_column_double(raw, index) }

    /// Whether column `index` is NULL.
    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(raw, index) == SQLITE_NULL }

    /// Text column `index`.
    public func text(_ index: Int32) -> String {
        guard let pointer = sqlite3_column_text(raw, index) else { return "" }
        return String(cString: pointer)
    }

    /// Runs `body` with blob column `index`'s bytes in place (valid only inside `body`).
    public func withBlob<T>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws(BatonError) -> T) throws(BatonError) -> T {
        let count = Int(sqlite3_column_bytes(raw, index))
        guard count > 0, let pointer = sqlite3_column_blob(raw, index) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Blob column `index`.
    public func blob(_ index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(raw, index))
        guard count > 0, let pointer = sqlite3_column_blob(raw, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
