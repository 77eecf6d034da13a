extension EventKind {
    /// Writes this event in the exact shape of its synthesized `Codable` encoding
    /// (`{"caseName": {"label": value, …}}`, `nil` members omitted), without `JSONEncoder`.
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            switch self {
            case .workflowStarted(let definition, let version, let input):
                writer.key("workflowStarted")
                writer.object { w in
                    w.key("definition"); w.string(definition)
                    w.key("version"); w.integer(version)
                    w.key("input"); w.value(input)
                }
            case .stepScheduled(let step, let attempt, let input):
                writer.key("stepScheduled")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("input"); w.value(input)
                }
            case .stepStarted(let step, let attempt):
                writer.key("stepStarted")
                writer.object { w in w.key("step"); w.string(step); w.key("attempt"); w.integer(attempt) }
            case .stepHeartbeat(let step, let attempt, let details):
                writer.key("stepHeartbeat")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("details"); w.value(details)
                }
            case .stepCompleted(let step, let attempt, let output):
                writer.key("stepCompleted")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("output"); w.value(output)
                }
            case .stepFailed(let step, let attempt, let failure, let retryAt):
                writer.key("stepFailed")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("failure"); w.failure(failure)
                    w.member("retryAt", retryAt) { $0.instant($1) }
                }
            case .stepTimedOut(let step, let attempt, let timeout, let retryAt):
                writer.key("stepTimedOut")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("timeout"); w.string(timeout.rawValue)
                    w.member("retryAt", retryAt) { $0.instant($1) }
                }
            case .stepSkipped(let step):
                writer.key("stepSkipped")
                writer.object { w in w.key("step"); w.string(step) }
            case .timerStarted(let timer, let step, let attempt, let purpose, let fireAt):
                writer.key("timerStarted")
                writer.object { w in
                    w.key("timer"); w.string(timer)
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("purpose"); w.purpose(purpose)
                    w.key("fireAt"); w.instant(fireAt)
                }
            case .timerFired(let timer):
                writer.key("timerFired")
                writer.object { w in w.key("timer"); w.string(timer) }
            case .signalReceived(let name, let payload, let requestID):
                writer.key("signalReceived")
                writer.object { w in
                    w.key("name"); w.string(name)
                    w.key("payload"); w.value(payload)
                    w.member("requestID", requestID) { $0.string($1) }
                }
            case .signalWaitTimedOut(let step):
                writer.key("signalWaitTimedOut")
                writer.object { w in w.key("step"); w.string(step) }
            case .cancelRequested(let reason):
                writer.key("cancelRequested")
                writer.object { w in w.key("reason"); w.string(reason) }
            case .sagaStarted(let step, let failure):
                writer.key("sagaStarted")
                writer.object { w in
                    w.member("step", step) { $0.string($1) }
                    w.member("failure", failure) { $0.failure($1) }
                }
            case .compensationStarted(let step):
                writer.key("compensationStarted")
                writer.object { w in w.key("step"); w.string(step) }
            case .compensationScheduled(let step, let attempt, let input):
                writer.key("compensationScheduled")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("input"); w.value(input)
                }
            case .compensationAttemptFailed(let step, let attempt, let failure, let retryAt):
                writer.key("compensationAttemptFailed")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("failure"); w.failure(failure)
                    w.member("retryAt", retryAt) { $0.instant($1) }
                }
            case .compensationCompleted(let step):
                writer.key("compensationCompleted")
                writer.object { w in w.key("step"); w.string(step) }
            case .compensationFailed(let step, let failure):
                writer.key("compensationFailed")
                writer.object { w in w.key("step"); w.string(step); w.key("failure"); w.failure(failure) }
            case .workflowCompleted(let output):
                writer.key("workflowCompleted")
                writer.object { w in w.key("output"); w.value(output) }
            case .workflowFailed(let step, let failure):
                writer.key("workflowFailed")
                writer.object { w in
                    w.member("step", step) { $0.string($1) }
                    w.key("failure"); w.failure(failure)
                }
            case .workflowCancelled(let reason):
                writer.key("workflowCancelled")
                writer.object { w in w.key("reason"); w.string(reason) }
            case .workflowTerminated(let reason):
                writer.key("workflowTerminated")
                writer.object { w in w.key("reason"); w.string(reason) }
            case .workflowCompensated:
                writer.key("workflowCompensated")
                writer.object { _ in }
            case .workflowCompensationFailed(let step):
                writer.key("workflowCompensationFailed")
                writer.object { w in w.key("step"); w.string(step) }
            case .circuitRejected(let step, let attempt, let key, let fallback):
                writer.key("circuitRejected")
                writer.object { w in
                    w.key("step"); w.string(step)
                    w.key("attempt"); w.integer(attempt)
                    w.key("key"); w.string(key)
                    w.key("fallback"); w.bool(fallback)
                }
            case .circuitOpened(let key):
                writer.key("circuitOpened")
                writer.object { w in w.key("key"); w.string(key) }
            case .circuitHalfOpened(let key):
                writer.key("circuitHalfOpened")
                writer.object { w in w.key("key"); w.string(key) }
            case .circuitClosed(let key):
                writer.key("circuitClosed")
                writer.object { w in w.key("key"); w.string(key) }
            }
        }
    }
}
