import BatonCore
import BatonEngine
import Logging

/// Turns the events every commit makes durable into structured log lines (one vocabulary with the
/// history): a run started and closed (with its status and duration), steps failed, retried and timed
/// out, sagas and compensations, circuit-breaker transitions, signals. Each line carries
/// `workflow_id`, `run_id`, `definition`, `version` and the run's `trace_id`, and where they apply
/// `step`, `attempt`, `phase`, `status`, `error_type`, `duration_ms`; a step attempt's line carries
/// that attempt's span as `span_id` (the run's root span otherwise). Routine events (scheduled, started, completed steps,
/// timers, heartbeats) are logged at debug.
public struct WorkflowEventLog: Sendable {
    /// The logger lines go to.
    public let logger: Logger
    /// Resolves steps to their `phase`, when given.
    private let definitions: DefinitionRegistry?

    /// Logs with `logger`; `definitions` adds the steps' phases.
    public init(logger: Logger, definitions: DefinitionRegistry? = nil) {
        self.logger = logger
        self.definitions = definitions
    }

    /// Whether `batch` makes any line at the logger's level (most commits hold only routine events).
    public func wouldLog(_ batch: CommittedEvents) -> Bool {
        logger.logLevel <= .debug || (logger.logLevel <= .critical && batch.events.contains { Self.isNotable($0.kind) })
    }

    /// Logs the lines for one committed batch.
    public func log(_ batch: CommittedEvents) {
        // Most commits hold only routine events (debug): nothing is built for them at the usual levels.
        guard wouldLog(batch) else { return }
        let (workflowID, archivedRun) = RunKey.split(batch.workflowID)
        // Room for a line's own fields too: adding them never grows the copy.
        var base = Logger.Metadata(minimumCapacity: 16)
        base["workflow_id"] = .string(workflowID)
        base["run_id"] = .string(archivedRun ?? batch.runID)
        base["definition"] = .string(batch.definition.name)
        base["version"] = .stringConvertible(batch.definition.version)
        if let trace = batch.trace {
            base["trace_id"] = .string(trace.traceID)
            base["span_id"] = .string(trace.spanID)
        }
        for event in batch.events where Self.isNotable(event.kind) || logger.logLevel <= .debug {
            guard let (level, message, lineFields) = Self.line(event, startedAt: batch.startedAt),
                  logger.logLevel <= level else { continue }
            var fields = base
            var step: String?
            for (key, value) in lineFields {
                fields[key] = value
                if key == "step", case .string(let name) = value { step = name }
            }
            if let step {
                if let phase = definitions?.cachedDefinition(named: batch.definition.name, version: batch.definition.version)?
                    .0.step(step)?.phase {
                    fields["phase"] = .string(phase)
                }
                if let trace = batch.trace, case .stringConvertible(let attempt as Int)? = fields["attempt"] {
                    fields["span_id"] = .string(trace.spanID(Self.isCompensation(event.kind) ? .compensate : .step,
                                                             step: step, attempt: attempt))
                }
            }
            logger.log(level: level, "\(message)", metadata: fields)
        }
    }

    static func isCompensation(_ kind: EventKind) -> Bool {
        if case .compensationAttemptFailed = kind { return true }
        return false
    }

    /// A line's own fields, in order (added to the run's).
    typealias Fields = [(String, Logger.Metadata.Value)]

    /// Whether `kind` is logged above debug (the routine step events and timers are not).
    static func isNotable(_ kind: EventKind) -> Bool {
        switch kind {
        case .stepScheduled, .stepStarted, .stepCompleted, .stepSkipped, .stepHeartbeat, .timerStarted, .timerFired,
             .compensationStarted, .compensationScheduled:
            false
        default:
            true
        }
    }

    /// The level, message and fields of `event`'s line; nil for events not worth a line.
    static func line(_ event: WorkflowEvent, startedAt: Instant?) -> (Logger.Level, String, Fields)? {
        func closed(_ status: String, _ level: Logger.Level, _ extra: Fields = []) -> (Logger.Level, String, Fields) {
            var fields: Fields = [("status", .string(status))]
            if let startedAt { fields.append(("duration_ms", .stringConvertible(max(0, (event.time - startedAt).milliseconds)))) }
            return (level, "workflow closed", fields + extra)
        }
        func step(_ name: String, _ attempt: Int) -> Fields {
            [("step", .string(name)), ("attempt", .stringConvertible(attempt))]
        }
        switch event.kind {
        case .workflowStarted:
            return (.info, "workflow started", [("status", "running")])
        case .workflowCompleted:
            return closed("completed", .info)
        case .workflowFailed(let failedStep, let failure):
            var extra: Fields = [("error_type", .string(failure.type)), ("error", .string(failure.message))]
            if let failedStep { extra.append(("step", .string(failedStep))) }
            return closed("failed", .warning, extra)
        case .workflowCancelled(let reason):
            return closed("cancelled", .info, [("reason", .string(reason))])
        case .workflowTerminated(let reason):
            return closed("terminated", .info, [("reason", .string(reason))])
        case .workflowCompensated:
            return closed("compensated", .info)
        case .workflowCompensationFailed(let failedStep):
            return closed("compensation_failed", .error, [("step", .string(failedStep))])
        case .stepFailed(let name, let attempt, let failure, let retryAt):
            var fields = step(name, attempt)
            fields.append(("error_type", .string(failure.type)))
            fields.append(("error", .string(String(failure.message.prefix(512)))))
            fields.append(("retry", .stringConvertible(retryAt != nil)))
            return (.warning, retryAt != nil ? "step failed; retrying" : "step failed", fields)
        case .stepTimedOut(let name, let attempt, let timeout, let retryAt):
            var fields = step(name, attempt)
            fields.append(("error_type", "Timeout"))
            fields.append(("timeout", .string(timeout.rawValue)))
            fields.append(("retry", .stringConvertible(retryAt != nil)))
            return (.warning, retryAt != nil ? "step timed out; retrying" : "step timed out", fields)
        case .signalReceived(let name, _, _):
            return (.info, "signal received", [("signal", .string(name))])
        case .signalWaitTimedOut(let name):
            return (.warning, "signal wait timed out", [("step", .string(name))])
        case .cancelRequested(let reason):
            return (.info, "cancel requested", [("reason", .string(reason))])
        case .sagaStarted(let failedStep, let failure):
            var fields: Fields = [("reason", .string(failure == nil ? "cancelled" : "failed"))]
            if let failedStep { fields.append(("step", .string(failedStep))) }
            if let failure { fields.append(("error_type", .string(failure.type))) }
            return (.notice, "compensation started", fields)
        case .compensationCompleted(let name):
            return (.info, "step compensated", [("step", .string(name))])
        case .compensationFailed(let name, let failure):
            return (.error, "compensation failed", [("step", .string(name)), ("error_type", .string(failure.type))])
        case .compensationAttemptFailed(let name, let attempt, let failure, let retryAt):
            var fields = step(name, attempt)
            fields.append(("error_type", .string(failure.type)))
            fields.append(("retry", .stringConvertible(retryAt != nil)))
            return (.warning, "compensation attempt failed", fields)
        case .circuitOpened(let key):
            return (.notice, "circuit breaker opened", [("breaker", .string(key)), ("to", "open")])
        case .circuitHalfOpened(let key):
            return (.notice, "circuit breaker half-open", [("breaker", .string(key)), ("to", "half_open")])
        case .circuitClosed(let key):
            return (.notice, "circuit breaker closed", [("breaker", .string(key)), ("to", "closed")])
        case .circuitRejected(let name, let attempt, let key, let fallback):
            var fields = step(name, attempt)
            fields.append(("breaker", .string(key)))
            fields.append(("fallback", .stringConvertible(fallback)))
            fields.append(("error_type", "CircuitOpen"))
            return (.warning, "attempt rejected by an open circuit breaker", fields)
        case .stepCompleted(let name, let attempt, _):
            return (.debug, "step completed", step(name, attempt))
        case .stepScheduled(let name, let attempt, _):
            return (.debug, "step scheduled", step(name, attempt))
        case .stepStarted(let name, let attempt):
            return (.debug, "step started", step(name, attempt))
        case .stepSkipped(let name):
            return (.debug, "step skipped", [("step", .string(name))])
        case .stepHeartbeat, .timerStarted, .timerFired, .compensationStarted, .compensationScheduled:
            return nil
        }
    }
}
