import Foundation

/// A fresh database path in a temporary directory, removed by `cleanup()`.
struct TempDatabase {
    let directory: URL
    var path: String { directory.appendingPathComponent("baton.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: directory)
    }
}
