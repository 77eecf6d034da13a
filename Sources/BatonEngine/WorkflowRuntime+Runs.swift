import BatonCore

extension WorkflowRuntime {
    /// The storage key of run `runID` of `workflowID` (see ``RunKey``): the workflow id itself when
    /// `runID` is `nil` or empty or names the id's latest run, else the archived run's key. Throws
    /// `.invalidArgument` for a malformed run id and `.notFound` when the workflow has no such run.
    public func runKey(_ workflowID: String, runID: String?) async throws(BatonError) -> String {
        guard let runID, !runID.isEmpty else { return workflowID }
        guard RunKey.isValidRunID(runID) else {
            throw BatonError(.invalidArgument,
                             "run_id: must be 1-200 printable ASCII characters without spaces or '/'")
        }
        var latestRunID: String?
        do {
            latestRunID = try await describe(workflowID).state.publicRunID
        } catch where error.code == .notFound {
            latestRunID = nil
        }
        if latestRunID == runID { return workflowID }
        let key = RunKey.archived(workflowID, runID: runID)
        do {
            _ = try await describe(key)
        } catch where error.code == .notFound {
            if latestRunID == nil { throw BatonError(.notFound, "no workflow '\(workflowID)'") }
            throw BatonError(.notFound, "workflow '\(workflowID)' has no run '\(runID)' (its latest run is '\(latestRunID ?? "")')")
        }
        return key
    }
}
