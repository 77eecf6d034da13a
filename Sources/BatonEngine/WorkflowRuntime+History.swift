import BatonCore

extension WorkflowRuntime {
    /// History events with `id > afterEventID`, at most `limit`; when there are none yet and the run
    /// is open, waits for its next commit (woken by the commit, no polling) until `deadline`, and
    /// returns what arrived (empty when nothing did in time or the run closed).
    public func history(
        _ workflowID: String, afterEventID: Int64, limit: Int, waitingUntil deadline: ContinuousClock.Instant
    ) async throws(BatonError) -> [WorkflowEvent] {
        let first = try await history(workflowID, afterEventID: afterEventID, limit: limit)
        guard first.isEmpty, ContinuousClock.now < deadline else { return first }
        let subscription = subscribe(workflowID, afterEventID: afterEventID, pageSize: limit)
        let outcome = await withTaskGroup(of: Result<[WorkflowEvent], BatonError>?.self) { group in
            group.addTask {
                do throws(BatonError) {
                    for try await update in subscription where !update.events.isEmpty { return .success(update.events) }
                    return .success([])
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let events): return events
        case .failure(let error): throw error
        case nil: return try await history(workflowID, afterEventID: afterEventID, limit: limit)
        }
    }
}
