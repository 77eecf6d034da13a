/// A line and column (both starting at 1) in a definition's source text.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Line number, starting at 1.
    public var line: Int
    /// Column number, starting at 1.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}
