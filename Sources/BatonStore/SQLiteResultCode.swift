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

    /// SQLITE_FULL: the disk (or the database's size limit) is full.
    static let full = 13
    /// SQLITE_IOERR and its extended codes (SQLITE_IOERR | n << 8).
    static let ioError = 10

    /// The store's answer to a failed commit: disk full → `.resourceExhausted`, an I/O error →
    /// `.unavailable`, with a message saying that nothing acknowledged was lost; other errors unchanged.
    static func classifyCommitFailure(_ error: BatonError) -> BatonError {
        guard let code = error.underlyingCode else { return error }
        if code & 0xff == full {
            return BatonError(
                .resourceExhausted,
                "the disk is full: this change was not stored (nothing acknowledged is lost); retry once space is freed",
                cause: error, underlyingCode: code)
        }
        if code & 0xff == ioError {
            return BatonError(
                .unavailable, "the store had an I/O error: this change was not stored (nothing acknowledged is lost)",
                cause: error, underlyingCode: code)
        }
        return error
    }
}
