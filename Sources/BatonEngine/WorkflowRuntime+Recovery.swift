import BatonCore

extension WorkflowRuntime {
    /// The first wait before a run whose commit failed is restored, and the longest.
    static let recoveryBackoff: (first: Duration, longest: Duration) = (.milliseconds(100), .seconds(5))

    /// After a commit of `workflowID` failed (e.g. the disk is full), the shard forgot the run's
    /// uncommitted decision; nothing it had acknowledged is lost, but results that arrived since are.
    /// This restores the run from the store — re-dispatching its in-flight attempts with their
    /// idempotency keys and re-arming its timers — after a backoff that doubles while failures go on
    /// (at most ``recoveryBackoff``), so every acknowledged run continues once the store accepts
    /// commits again, without a restart.
    func recoverAfterFailedCommit(_ workflowID: String) {
        guard let delay = recovery.withLock({ recovery -> Duration? in
            guard !recovery.pending.contains(workflowID) else { return nil }
            recovery.pending.insert(workflowID)
            let delay = recovery.delays[workflowID].map { min($0 * 2, Self.recoveryBackoff.longest) }
                ?? Self.recoveryBackoff.first
            recovery.delays[workflowID] = delay
            return delay
        }) else { return }
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard let self else { return }
            self.recovery.withLock { _ = $0.pending.remove(workflowID) }
            guard (try? self.checkOpen()) != nil else { return }
            do {
                await self.perform(try await self.shard(for: workflowID).restore(workflowID))
            } catch {
                self.recoverAfterFailedCommit(workflowID)
            }
        }
    }

    /// A commit of `workflowID` succeeded: its next failure starts the backoff afresh.
    func commitSucceeded(_ workflowID: String) {
        recovery.withLock { recovery in
            if recovery.delays[workflowID] != nil { recovery.delays[workflowID] = nil }
        }
    }
}

/// Runs waiting to be restored after a failed commit, and their current backoff.
struct RecoveryState {
    var pending: Set<String> = []
    var delays: [String: Duration] = [:]
}
