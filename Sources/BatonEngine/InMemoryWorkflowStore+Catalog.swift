import BatonCore

extension InMemoryWorkflowStore: WorkflowCatalog {
    /// Runs matching `filter`, newest first, after `cursor`.
    public func listWorkflows(_ filter: WorkflowListFilter, after cursor: WorkflowListCursor?, limit: Int) async throws(BatonError)
        -> [WorkflowSummary] {
        let all = contents.withLock { $0.snapshots.values.map(WorkflowSummary.init(state:)) }
        let sorted = all.filter { filter.matches($0) && (cursor?.precedes($0) ?? true) }
            .sorted { ($0.startedAt, $0.workflowID) > ($1.startedAt, $1.workflowID) }
        return Array(sorted.prefix(limit))
    }

    /// Every definition name with its latest version.
    public func latestDefinitions() async throws(BatonError) -> [DefinitionRef] {
        contents.withLock { contents in
            contents.definitions.compactMap { name, records in
                records.map(\.version).max().map { DefinitionRef(name: name, version: $0) }
            }
        }.sorted { $0.name < $1.name }
    }
}
