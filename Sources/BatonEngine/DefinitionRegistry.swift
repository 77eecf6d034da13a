import BatonCore
import Synchronization

/// Versioned definitions, persisted in the store: registering the same content again returns its
/// existing version; changed content under the same name becomes the next version.
///
/// ```swift
/// let registry = DefinitionRegistry(store: store)
/// let ref = try await registry.register(source: yaml, now: clock.now())   // demo@1
/// let (definition, version) = try await registry.definition(named: "demo", version: nil)
/// ```
public actor DefinitionRegistry {
    private let store: any WorkflowStore
    private let health: StoreHealth
    private var compiled: [DefinitionRef: WorkflowDefinition] = [:]
    private var versions: [String: [DefinitionRecord]] = [:]
    private let published = Mutex<Published>(Published())
    /// Names with a registration in progress, and the callers waiting to register under them:
    /// registrations of one name run one at a time (the actor is re-entered at every store call).
    private var registering: Set<String> = []
    private var registrationWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Compiled definitions readable without an actor hop (the hot path of starting workflows).
    private struct Published {
        var definitions: [DefinitionRef: WorkflowDefinition] = [:]
        var latest: [String: Int] = [:]
    }

    /// Creates a registry over `store`.
    public init(store: any WorkflowStore, health: StoreHealth = StoreHealth()) {
        self.health = health
        self.store = store
    }

    /// Parses, validates and stores `source` (YAML or JSON); returns the name and version it is registered as.
    /// Throws ``DefinitionError`` (as a ``BatonError`` with code `.invalidArgument`) for invalid definitions.
    public func register(source: String, now: Instant) async throws(BatonError) -> DefinitionRef {
        try await registerDefinition(source: source, now: now).ref
    }

    /// Registers `source` and tells whether this call stored it. Concurrent calls are serialized per
    /// name: identical content yields one version (`created` for exactly one caller), different content
    /// consecutive versions. A definition of more than `maxSteps` steps is refused (`definition_steps`).
    public func registerDefinition(source: String, now: Instant, maxSteps: Int = DefinitionLimits.maximumSteps)
        async throws(BatonError) -> DefinitionRegistration {
        let definition: WorkflowDefinition
        do {
            definition = try DefinitionParser.parse(source)
        } catch {
            throw error.asBatonError
        }
        guard definition.steps.count <= maxSteps else {
            throw BatonError(.invalidArgument, "steps: the definition has \(definition.steps.count) steps, over the limit "
                + "of \(maxSteps) (definition_steps)")
        }
        let name = definition.name
        while registering.contains(name) {
            await withCheckedContinuation { registrationWaiters[name, default: []].append($0) }
        }
        registering.insert(name)
        defer {
            registering.remove(name)
            for waiter in registrationWaiters.removeValue(forKey: name) ?? [] { waiter.resume() }
        }
        let existing = try await records(name)
        if let same = existing.first(where: { $0.content == definition.canonicalContent }) {
            if let declared = definition.declaredVersion, declared != same.version {
                throw BatonError(
                    .alreadyExists, "\(name): this content is already registered as version \(same.version)")
            }
            return DefinitionRegistration(ref: DefinitionRef(name: same.name, version: same.version), created: false)
        }
        let latest = existing.last?.version ?? 0
        let version = definition.declaredVersion ?? latest + 1
        guard version > latest else {
            throw BatonError(
                .alreadyExists,
                "\(name) version \(version) exists with different content; latest is \(latest)")
        }
        let record = DefinitionRecord(
            name: name, version: version, content: definition.canonicalContent, source: source, createdAt: now)
        do {
            try await store.saveDefinition(record)
        } catch {
            health.failed(error, workflowID: nil)
            throw error
        }
        health.succeeded()
        versions[name, default: []].append(record)
        let ref = DefinitionRef(name: name, version: version)
        compiled[ref] = definition
        publish(ref, definition, latest: version)
        return DefinitionRegistration(ref: ref, created: true)
    }

    /// The definition `name` at `version` (latest when `nil`).
    public func definition(named name: String, version: Int?) async throws(BatonError) -> (WorkflowDefinition, Int) {
        let all = try await records(name)
        guard let record = version.map({ wanted in all.first { $0.version == wanted } }) ?? all.last else {
            let what = version.map { "'\(name)' version \($0)" } ?? "'\(name)'"
            throw BatonError(.notFound, "no definition \(what)")
        }
        let ref = DefinitionRef(name: name, version: record.version)
        if let definition = compiled[ref] { return (definition, record.version) }
        do {
            let definition = try DefinitionParser.parse(record.source)
            compiled[ref] = definition
            publish(ref, definition, latest: all.last?.version ?? record.version)
            return (definition, record.version)
        } catch {
            throw BatonError(.internal, "stored definition \(ref) no longer parses", cause: error)
        }
    }

    /// The definition `name` at `version` (latest when `nil`) if it was already compiled, without
    /// suspending. Returns `nil` when the registry has to consult the store (use ``definition(named:version:)``).
    public nonisolated func cachedDefinition(named name: String, version: Int?) -> (WorkflowDefinition, Int)? {
        published.withLock { published in
            guard let wanted = version ?? published.latest[name],
                let definition = published.definitions[DefinitionRef(name: name, version: wanted)]
            else { return nil }
            return (definition, wanted)
        }
    }

    private func publish(_ ref: DefinitionRef, _ definition: WorkflowDefinition, latest: Int) {
        published.withLock { published in
            published.definitions[ref] = definition
            if latest >= published.latest[ref.name] ?? 0 { published.latest[ref.name] = latest }
        }
    }

    /// Every stored version of `name`, oldest first.
    public func records(_ name: String) async throws(BatonError) -> [DefinitionRecord] {
        if let cached = versions[name] { return cached }
        let loaded = try await store.definitionVersions(name)
        versions[name] = loaded
        return loaded
    }
}
