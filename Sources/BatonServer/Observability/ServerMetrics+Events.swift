import BatonCore
import BatonEngine

extension ServerMetrics {
    /// Counts what one committed batch of a run's events says: runs closed (and how long they took),
    /// activity attempts and retries, sagas and signals.
    public func record(_ batch: CommittedEvents) {
        let workflowType = batch.definition.name
        // An attempt an open breaker rejected is recorded as failed too: counted once, as rejected.
        var rejected: Set<Attempt> = []
        for event in batch.events {
            switch event.kind {
            case .stepStarted(let step, let attempt):
                withState { $0.startedAttempts[batch.workflowID, default: [:]][Attempt(step: step, number: attempt)] = event.time }
            case .stepCompleted(let step, let attempt, _):
                attemptFinished(batch, step, attempt, at: event.time, outcome: "completed", retried: false)
            case .stepFailed(let step, let attempt, _, let retryAt):
                let wasRejected = rejected.contains(Attempt(step: step, number: attempt))
                attemptFinished(batch, step, attempt, at: event.time, outcome: wasRejected ? nil : "failed",
                                retried: retryAt != nil)
            case .stepTimedOut(let step, let attempt, _, let retryAt):
                attemptFinished(batch, step, attempt, at: event.time, outcome: "timed_out", retried: retryAt != nil)
            case .circuitRejected(let step, let attempt, _, _):
                rejected.insert(Attempt(step: step, number: attempt))
                attemptFinished(batch, step, attempt, at: event.time, outcome: "rejected", retried: false)
            case .sagaStarted(_, let failure):
                counter(Self.sagaCompensations, [
                    ("workflow_type", workflowType), ("reason", failure == nil ? "cancelled" : "failed"),
                ]).increment()
            case .signalReceived(let name, _, _):
                let signal = declaresSignal(name, in: batch.definition) ? name : "other"
                counter(Self.signals, [
                    ("workflow_type", workflowType), ("signal", signal),
                ]).increment()
            case .workflowCompleted: closed(batch, "completed", at: event.time)
            case .workflowFailed: closed(batch, "failed", at: event.time)
            case .workflowCancelled: closed(batch, "cancelled", at: event.time)
            case .workflowTerminated: closed(batch, "terminated", at: event.time)
            case .workflowCompensated: closed(batch, "compensated", at: event.time)
            case .workflowCompensationFailed: closed(batch, "compensation_failed", at: event.time)
            default:
                break
            }
        }
    }

    private func attemptFinished(_ batch: CommittedEvents, _ step: String, _ attempt: Int, at time: Instant,
                                 outcome: String?, retried: Bool) {
        // Signal and sleep steps complete too; only activity attempts are counted.
        guard let activity = activity(of: step, in: batch.definition) else { return }
        if let outcome {
            counter(Self.activityAttempts, [("activity", activity), ("outcome", outcome)])
                .increment()
        }
        if retried {
            counter(Self.activityRetries, [("activity", activity)]).increment()
        }
        let started = withState { state -> Instant? in
            guard var attempts = state.startedAttempts.removeValue(forKey: batch.workflowID) else { return nil }
            let started = attempts.removeValue(forKey: Attempt(step: step, number: attempt))
            if !attempts.isEmpty { state.startedAttempts[batch.workflowID] = attempts }
            return started
        }
        if let started {
            durationHistogram(Self.activityDuration, [("activity", activity)], buckets: Self.activityBuckets)
                .record(.milliseconds(max(0, (time - started).milliseconds)))
        }
    }

    private func closed(_ batch: CommittedEvents, _ status: String, at time: Instant) {
        let labels = [("workflow_type", batch.definition.name), ("status", status)]
        counter(Self.workflowExecutions, labels).increment()
        if let startedAt = batch.startedAt {
            durationHistogram(Self.workflowDuration, labels, buckets: Self.workflowBuckets)
                .record(.milliseconds(max(0, (time - startedAt).milliseconds)))
        }
        withState { $0.startedAttempts[batch.workflowID] = nil }
    }
}
