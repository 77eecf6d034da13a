import BatonCodec
import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

/// A database written by the format-1 release (Fixtures/format1.sqlite, made by
/// scripts/gen-store-fixture) is converted in place to protobuf history and snapshots and reads back
/// exactly as it read before.
@Suite(.timeLimit(.minutes(5))) struct FormatMigrationTests {
    /// A private copy of the committed fixture.
    static func fixtureCopy() throws -> TempDatabase {
        let url = try #require(Bundle.module.url(forResource: "format1", withExtension: "sqlite", subdirectory: "Fixtures"))
        let temp = try TempDatabase()
        try FileManager.default.copyItem(atPath: url.path, toPath: temp.path)
        return temp
    }

    /// Every event payload and snapshot as the format-1 rows decode, read without migrating.
    static func legacyRows(_ path: String) throws -> (events: [String: [EventKind]], snapshots: [String: WorkflowState]) {
        let connection = try SQLiteConnection(path: path)
        var events: [String: [EventKind]] = [:]
        for (id, payload) in try connection.query("SELECT workflow_id, payload FROM events ORDER BY workflow_id, event_id", [], {
            ($0.text(0), $0.blob(1))
        }) {
            #expect(payload.first == EventCodec.legacyJSONVersion)
            events[id, default: []].append(try EventCodec.decode(payload))
        }
        var snapshots: [String: WorkflowState] = [:]
        for (id, blob) in try connection.query("SELECT id, snapshot FROM workflows", [], { ($0.text(0), $0.blob(1)) }) {
            #expect(blob.first == SnapshotCodec.legacyJSONVersion)
            snapshots[id] = try SnapshotCodec.decode(blob)
        }
        return (events, snapshots)
    }

    @Test func theFormatOneFixtureIsConvertedInPlaceAndReadsBackTheSame() async throws {
        let temp = try Self.fixtureCopy()
        defer { temp.cleanup() }
        let before = try Self.legacyRows(temp.path)
        #expect(before.snapshots.count == StoreFixture.runs.count)
        #expect(Set(before.events.values.joined().map(\.typeName)) == StoreFixtureTests.everyEventType)

        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let rows = try store.read { connection throws(BatonError) in
            try connection.query("SELECT substr(payload, 1, 1) FROM events UNION ALL SELECT substr(snapshot, 1, 1) FROM workflows") {
                $0.blob(0).first
            }
        }
        #expect(rows.allSatisfy { $0 == EventCodec.currentVersion }, "every row is format 2 after opening")
        for (id, kinds) in before.events {
            #expect(try await store.history(id, afterEventID: 0, limit: .max).map(\.kind) == kinds, "\(id)")
        }
        for (id, state) in before.snapshots {
            let raw = try store.read { connection throws(BatonError) in
                try connection.query("SELECT snapshot FROM workflows WHERE id = ?", [.text(id)]) { $0.blob(0) }
            }
            #expect(try SnapshotCodec.decode(try #require(raw.first)) == state, "\(id)")
        }
        #expect(try await store.loadWorkflow("open")?.state.status == .running)
        #expect(try await store.loadOpenWorkflows().map(\.state.workflowID) == ["open"])
        #expect(try await StoreChecker(store: store).run().isHealthy)
        let migrations = try store.read { connection throws(BatonError) in
            try connection.query("SELECT name FROM migrations ORDER BY name") { $0.text(0) }
        }
        #expect(migrations.contains("0005_protobuf_history"))
    }

    @Test func aRuntimeRecoversTheMigratedOpenRunAndFinishesIt() async throws {
        let temp = try Self.fixtureCopy()
        defer { temp.cleanup() }
        let runtime = try await WorkflowRuntime.open(
            path: temp.path, clock: ManualClock(start: Instant(millisecondsSinceEpoch: 1_800_000_000_000)))
        #expect(try await runtime.describe("open").status == .running)
        #expect(try await runtime.describe("echo").state.output == ["n": 7])
        try await runtime.terminate("open", reason: "migrated")
        #expect(try await runtime.awaitCompletion("open").status == .terminated)
        await runtime.close()
    }
}
