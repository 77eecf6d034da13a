/// Left-aligned columns separated by two spaces.
struct Table {
    /// The column titles.
    var header: [String]
    /// The rows, each as many cells as the header.
    var rows: [[String]] = []

    /// The table as lines, the header first.
    var lines: [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    /// Writes the table to stdout.
    func print() {
        for line in lines { Output.line(line) }
    }
}
