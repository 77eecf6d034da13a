import BatonCore
import BatonEngine
import BatonProto
import SwiftProtobuf

extension WorkflowState {
    /// The state as its stored snapshot message (format 2).
    public var storageMessage: Baton_Storage_V1_Snapshot {
        Baton_Storage_V1_Snapshot.with { s in
            s.workflowID = workflowID
            if let runID { s.runID = runID }
            if let trace { s.trace = trace.proto }
            s.definitionName = definitionName
            s.definitionVersion = Int32(clamping: definitionVersion)
            s.status = status.proto
            s.input = input.proto
            s.steps = steps.mapValues(\.storageMessage)
            s.completionOrder = completionOrder
            s.pendingSignals = pendingSignals.map { signal in
                .with { $0.name = signal.name; $0.payload = signal.payload.proto }
            }
            s.signalRequestIds = signalRequestIDs.sorted()
            s.timers = timers.mapValues { timer in
                .with {
                    $0.step = timer.step
                    $0.attempt = Int32(clamping: timer.attempt)
                    ($0.purpose, $0.timeout) = timer.purpose.proto
                    $0.fireAtMs = timer.fireAt.millisecondsSinceEpoch
                }
            }
            s.cancelRequested = cancelRequested
            if let cancelReason { s.cancelReason = cancelReason }
            if let saga { s.saga = saga.storageMessage }
            if let compensationFailedStep { s.compensationFailedStep = compensationFailedStep }
            s.output = output.proto
            if let failure { s.failure = failure.proto() }
            if let failedStep { s.failedStep = failedStep }
            if let startedAt { s.startedAtMs = startedAt.millisecondsSinceEpoch }
            if let closedAt { s.closedAtMs = closedAt.millisecondsSinceEpoch }
            s.lastEventID = lastEventID
        }
    }

    /// The state of a stored snapshot message (format 2).
    public init(storage s: Baton_Storage_V1_Snapshot) throws(BatonError) {
        self.init(workflowID: s.workflowID)
        runID = s.hasRunID ? s.runID : nil
        trace = s.hasTrace ? TraceContext(proto: s.trace) : nil
        definitionName = s.definitionName
        definitionVersion = Int(s.definitionVersion)
        guard let status = WorkflowStatus(proto: s.status) else {
            throw BatonError(.storage, "stored snapshot has an unknown status \(s.status.rawValue)")
        }
        self.status = status
        input = s.hasInput ? JSONValue(proto: s.input) : .null
        var steps: [String: StepState] = [:]
        steps.reserveCapacity(s.steps.count)
        for (name, step) in s.steps { steps[name] = try StepState(storage: step) }
        self.steps = steps
        completionOrder = s.completionOrder
        pendingSignals = s.pendingSignals.map { PendingSignal(name: $0.name, payload: $0.hasPayload ? JSONValue(proto: $0.payload) : .null) }
        signalRequestIDs = Set(s.signalRequestIds)
        var timers: [String: ArmedTimer] = [:]
        timers.reserveCapacity(s.timers.count)
        for (id, timer) in s.timers {
            timers[id] = ArmedTimer(
                step: timer.step, attempt: Int(timer.attempt), purpose: try TimerPurpose(proto: timer.purpose, timeout: timer.timeout),
                fireAt: Instant(millisecondsSinceEpoch: timer.fireAtMs))
        }
        self.timers = timers
        cancelRequested = s.cancelRequested
        cancelReason = s.hasCancelReason ? s.cancelReason : nil
        saga = s.hasSaga ? SagaState(storage: s.saga) : nil
        compensationFailedStep = s.hasCompensationFailedStep ? s.compensationFailedStep : nil
        output = s.hasOutput ? JSONValue(proto: s.output) : .null
        failure = s.hasFailure ? ActivityFailure(proto: s.failure) : nil
        failedStep = s.hasFailedStep ? s.failedStep : nil
        startedAt = s.hasStartedAtMs ? Instant(millisecondsSinceEpoch: s.startedAtMs) : nil
        closedAt = s.hasClosedAtMs ? Instant(millisecondsSinceEpoch: s.closedAtMs) : nil
        lastEventID = s.lastEventID
    }
}

extension StepState {
    /// The step's stored message.
    var storageMessage: Baton_Storage_V1_StepSnapshot {
        Baton_Storage_V1_StepSnapshot.with { s in
            s.phase = status.storagePhase
            s.attempt = Int32(clamping: attempt)
            s.input = input.proto
            s.output = output.proto
            if let lastFailure { s.lastFailure = lastFailure.proto() }
            s.heartbeatDetails = heartbeatDetails.proto
            if let firstScheduledAt { s.firstScheduledAtMs = firstScheduledAt.millisecondsSinceEpoch }
            if let scheduledAt { s.scheduledAtMs = scheduledAt.millisecondsSinceEpoch }
            if let startedAt { s.startedAtMs = startedAt.millisecondsSinceEpoch }
            if let finishedAt { s.finishedAtMs = finishedAt.millisecondsSinceEpoch }
        }
    }

    init(storage s: Baton_Storage_V1_StepSnapshot) throws(BatonError) {
        self.init()
        status = try Status(storage: s.phase)
        attempt = Int(s.attempt)
        input = s.hasInput ? JSONValue(proto: s.input) : .null
        output = s.hasOutput ? JSONValue(proto: s.output) : .null
        lastFailure = s.hasLastFailure ? ActivityFailure(proto: s.lastFailure) : nil
        heartbeatDetails = s.hasHeartbeatDetails ? JSONValue(proto: s.heartbeatDetails) : .null
        firstScheduledAt = s.hasFirstScheduledAtMs ? Instant(millisecondsSinceEpoch: s.firstScheduledAtMs) : nil
        scheduledAt = s.hasScheduledAtMs ? Instant(millisecondsSinceEpoch: s.scheduledAtMs) : nil
        startedAt = s.hasStartedAtMs ? Instant(millisecondsSinceEpoch: s.startedAtMs) : nil
        finishedAt = s.hasFinishedAtMs ? Instant(millisecondsSinceEpoch: s.finishedAtMs) : nil
    }
}

extension StepState.Status {
    var storagePhase: Baton_Storage_V1_StepPhase {
        switch self {
        case .pending: .pending
        case .scheduled: .scheduled
        case .started: .started
        case .backoff: .backoff
        case .completed: .completed
        case .failed: .failed
        case .skipped: .skipped
        }
    }

    init(storage phase: Baton_Storage_V1_StepPhase) throws(BatonError) {
        switch phase {
        case .pending: self = .pending
        case .scheduled: self = .scheduled
        case .started: self = .started
        case .backoff: self = .backoff
        case .completed: self = .completed
        case .failed: self = .failed
        case .skipped: self = .skipped
        case .unspecified, .UNRECOGNIZED: throw BatonError(.storage, "stored step phase \(phase.rawValue) is unknown")
        }
    }
}

extension SagaState {
    var storageMessage: Baton_Storage_V1_Saga {
        Baton_Storage_V1_Saga.with { s in
            s.remaining = remaining
            if let current { s.current = current }
            s.attempt = Int32(clamping: attempt)
            s.inFlight = inFlight
            s.input = input.proto
            s.compensated = compensated
            s.failed = failed
            s.cancelled = cancelled
        }
    }

    init(storage s: Baton_Storage_V1_Saga) {
        self.init(remaining: s.remaining, cancelled: s.cancelled)
        current = s.hasCurrent ? s.current : nil
        attempt = Int(s.attempt)
        inFlight = s.inFlight
        input = s.hasInput ? JSONValue(proto: s.input) : .null
        compensated = s.compensated
        failed = s.failed
    }
}
