import BatonCore
import BatonEngine
import BatonStore
import Testing

/// Registrations racing each other on a real SQLite store.
@Suite(.timeLimit(.minutes(5))) struct DefinitionRegistryConcurrencyTests {
    static func source(_ tag: Int) -> String {
        "name: raced\nsteps:\n  a: { activity: builtin.echo, input: { tag: \(tag) } }\n"
    }

    @Test func identicalContentRegisteredConcurrentlyIsOneVersionCreatedOnce() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let registry = DefinitionRegistry(store: store)
        let outcomes = try await withThrowingTaskGroup(of: DefinitionRegistration.self) { group in
            for _ in 0..<16 { group.addTask { try await registry.registerDefinition(source: Self.source(1), now: .epoch) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(outcomes.map(\.ref)) == [DefinitionRef(name: "raced", version: 1)])
        #expect(outcomes.filter(\.created).count == 1)
        #expect(try await store.definitionVersions("raced").count == 1)
    }

    @Test func differentContentRegisteredConcurrentlyGetsConsecutiveVersions() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let registry = DefinitionRegistry(store: store)
        let outcomes = try await withThrowingTaskGroup(of: DefinitionRegistration.self) { group in
            for tag in 0..<12 { group.addTask { try await registry.registerDefinition(source: Self.source(tag), now: .epoch) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.map(\.ref.version).sorted() == Array(1...12))
        #expect(outcomes.filter(\.created).count == 12)
        #expect(try await store.definitionVersions("raced").map(\.version) == Array(1...12))
    }

    @Test func aDuplicateVersionIsClassifiedByItsResultCode() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let store = try SQLiteWorkflowStore(path: temp.path)
        defer { store.close() }
        let record = DefinitionRecord(name: "dup", version: 1, content: "{}", source: "{}", createdAt: .epoch)
        try await store.saveDefinition(record)
        do {
            try await store.saveDefinition(record)
            Issue.record("a second row with the same key was accepted")
        } catch {
            #expect(error.code == .alreadyExists)
        }
    }
}
