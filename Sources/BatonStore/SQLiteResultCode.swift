import BatonCore

/// SQLite's (extended) result codes the store classifies failures by.
enum SQLiteResultCode {
    /// SQLITE_CONSTRAINT_PRIMARYKEY (SQLITE_CONSTRAINT | 6 << 8).
    static let constraintPrimaryKey = 1555
    /// SQLITE_CONSTRAINT_UNIQUE (SQLITE_CONSTRAINT | 8 << 8).
    static let constraintUnique = 2067

    /// Whether `error` is a UNIQUE or PRIMARY KEY constraint violation.
    static func isUniquenessViolation(_ error: BatonError) -> Bool {
        guard let code = error.underlyingCode else { return false }
        return code == constraintUnique || code == constraintPrimaryKey
    }
}
