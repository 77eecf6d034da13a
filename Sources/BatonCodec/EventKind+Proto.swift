import BatonCore
import BatonProto
import SwiftProtobuf

extension EventKind {
    /// The event as its stored message (format 2): the one encoder of events.
    public var storageMessage: Baton_Storage_V1_Event {
        var event = Baton_Storage_V1_Event()
        event.kind = storageKind
        return event
    }

    private var storageKind: Baton_Storage_V1_Event.OneOf_Kind {
        switch self {
        case .workflowStarted(let definition, let version, let input, let runID, let trace):
            .workflowStarted(.with {
                $0.definition = definition
                $0.version = Int32(clamping: version)
                $0.input = input.proto
                $0.runID = runID ?? ""
                if let trace { $0.trace = trace.proto }
            })
        case .stepScheduled(let step, let attempt, let input):
            .stepScheduled(.with { $0.step = step; $0.attempt = Int32(clamping: attempt); $0.input = input.proto })
        case .stepStarted(let step, let attempt):
            .stepStarted(.with { $0.step = step; $0.attempt = Int32(clamping: attempt) })
        case .stepHeartbeat(let step, let attempt, let details):
            .stepHeartbeat(.with { $0.step = step; $0.attempt = Int32(clamping: attempt); $0.details = details.proto })
        case .stepCompleted(let step, let attempt, let output):
            .stepCompleted(.with { $0.step = step; $0.attempt = Int32(clamping: attempt); $0.output = output.proto })
        case .stepFailed(let step, let attempt, let failure, let retryAt):
            .stepFailed(.with {
                $0.step = step
                $0.attempt = Int32(clamping: attempt)
                $0.failure = failure.proto()
                if let retryAt { $0.retryAt = retryAt.proto }
            })
        case .stepTimedOut(let step, let attempt, let timeout, let retryAt):
            .stepTimedOut(.with {
                $0.step = step
                $0.attempt = Int32(clamping: attempt)
                $0.timeout = timeout.proto
                if let retryAt { $0.retryAt = retryAt.proto }
            })
        case .stepSkipped(let step):
            .stepSkipped(.with { $0.step = step })
        case .timerStarted(let timer, let step, let attempt, let purpose, let fireAt):
            .timerStarted(.with {
                $0.timerID = timer
                $0.step = step
                $0.attempt = Int32(clamping: attempt)
                ($0.purpose, $0.timeout) = purpose.proto
                $0.fireAt = fireAt.proto
            })
        case .timerFired(let timer):
            .timerFired(.with { $0.timerID = timer })
        case .signalReceived(let name, let payload, let requestID):
            .signalReceived(.with { $0.name = name; $0.payload = payload.proto; $0.requestID = requestID ?? "" })
        case .signalWaitTimedOut(let step):
            .signalWaitTimedOut(.with { $0.step = step })
        case .cancelRequested(let reason):
            .cancelRequested(.with { $0.reason = reason })
        case .sagaStarted(let step, let failure):
            .sagaStarted(.with {
                $0.step = step ?? ""
                if let failure { $0.failure = failure.proto() }
            })
        case .compensationStarted(let step):
            .compensationStarted(.with { $0.step = step })
        case .compensationScheduled(let step, let attempt, let input):
            .compensationScheduled(.with { $0.step = step; $0.attempt = Int32(clamping: attempt); $0.input = input.proto })
        case .compensationAttemptFailed(let step, let attempt, let failure, let retryAt):
            .compensationAttemptFailed(.with {
                $0.step = step
                $0.attempt = Int32(clamping: attempt)
                $0.failure = failure.proto()
                if let retryAt { $0.retryAt = retryAt.proto }
            })
        case .compensationCompleted(let step):
            .compensationCompleted(.with { $0.step = step })
        case .compensationFailed(let step, let failure):
            .compensationFailed(.with { $0.step = step; $0.failure = failure.proto() })
        case .workflowCompleted(let output):
            .workflowCompleted(.with { $0.output = output.proto })
        case .workflowFailed(let step, let failure):
            .workflowFailed(.with { $0.step = step ?? ""; $0.failure = failure.proto() })
        case .workflowCancelled(let reason):
            .workflowCancelled(.with { $0.reason = reason })
        case .workflowTerminated(let reason):
            .workflowTerminated(.with { $0.reason = reason })
        case .workflowCompensated:
            .workflowCompensated(Baton_V1_WorkflowCompensated())
        case .workflowCompensationFailed(let step):
            .workflowCompensationFailed(.with { $0.step = step })
        case .circuitRejected(let step, let attempt, let key, let fallback):
            .circuitRejected(.with { $0.step = step; $0.attempt = Int32(clamping: attempt); $0.key = key; $0.fallback = fallback })
        case .circuitOpened(let key):
            .circuitOpened(.with { $0.key = key })
        case .circuitHalfOpened(let key):
            .circuitHalfOpened(.with { $0.key = key })
        case .circuitClosed(let key):
            .circuitClosed(.with { $0.key = key })
        }
    }

    /// The event of a stored message (format 2): the one decoder of events. Throws for a message
    /// with no event set (written by a newer release, or damaged).
    public init(storage event: Baton_Storage_V1_Event) throws(BatonError) {
        guard let kind = event.kind else { throw BatonError(.storage, "stored event has no known event type") }
        func value(_ has: Bool, _ value: Google_Protobuf_Value) -> JSONValue { has ? JSONValue(proto: value) : .null }
        func instant(_ has: Bool, _ timestamp: Google_Protobuf_Timestamp) -> Instant? { has ? Instant(proto: timestamp) : nil }
        func text(_ string: String) -> String? { string.isEmpty ? nil : string }
        switch kind {
        case .workflowStarted(let e):
            self = .workflowStarted(definition: e.definition, version: Int(e.version), input: value(e.hasInput, e.input),
                                    runID: e.runID.isEmpty ? nil : e.runID, trace: e.hasTrace ? TraceContext(proto: e.trace) : nil)
        case .stepScheduled(let e):
            self = .stepScheduled(step: e.step, attempt: Int(e.attempt), input: value(e.hasInput, e.input))
        case .stepStarted(let e):
            self = .stepStarted(step: e.step, attempt: Int(e.attempt))
        case .stepHeartbeat(let e):
            self = .stepHeartbeat(step: e.step, attempt: Int(e.attempt), details: value(e.hasDetails, e.details))
        case .stepCompleted(let e):
            self = .stepCompleted(step: e.step, attempt: Int(e.attempt), output: value(e.hasOutput, e.output))
        case .stepFailed(let e):
            self = .stepFailed(
                step: e.step, attempt: Int(e.attempt), failure: ActivityFailure(proto: e.failure),
                retryAt: instant(e.hasRetryAt, e.retryAt))
        case .stepTimedOut(let e):
            self = .stepTimedOut(
                step: e.step, attempt: Int(e.attempt), timeout: try TimeoutKind(proto: e.timeout),
                retryAt: instant(e.hasRetryAt, e.retryAt))
        case .stepSkipped(let e):
            self = .stepSkipped(step: e.step)
        case .timerStarted(let e):
            self = .timerStarted(
                timer: e.timerID, step: e.step, attempt: Int(e.attempt),
                purpose: try TimerPurpose(proto: e.purpose, timeout: e.timeout), fireAt: Instant(proto: e.fireAt))
        case .timerFired(let e):
            self = .timerFired(timer: e.timerID)
        case .signalReceived(let e):
            self = .signalReceived(name: e.name, payload: value(e.hasPayload, e.payload), requestID: text(e.requestID))
        case .signalWaitTimedOut(let e):
            self = .signalWaitTimedOut(step: e.step)
        case .cancelRequested(let e):
            self = .cancelRequested(reason: e.reason)
        case .sagaStarted(let e):
            self = .sagaStarted(step: text(e.step), failure: e.hasFailure ? ActivityFailure(proto: e.failure) : nil)
        case .compensationStarted(let e):
            self = .compensationStarted(step: e.step)
        case .compensationScheduled(let e):
            self = .compensationScheduled(step: e.step, attempt: Int(e.attempt), input: value(e.hasInput, e.input))
        case .compensationAttemptFailed(let e):
            self = .compensationAttemptFailed(
                step: e.step, attempt: Int(e.attempt), failure: ActivityFailure(proto: e.failure),
                retryAt: instant(e.hasRetryAt, e.retryAt))
        case .compensationCompleted(let e):
            self = .compensationCompleted(step: e.step)
        case .compensationFailed(let e):
            self = .compensationFailed(step: e.step, failure: ActivityFailure(proto: e.failure))
        case .workflowCompleted(let e):
            self = .workflowCompleted(output: value(e.hasOutput, e.output))
        case .workflowFailed(let e):
            self = .workflowFailed(step: text(e.step), failure: ActivityFailure(proto: e.failure))
        case .workflowCancelled(let e):
            self = .workflowCancelled(reason: e.reason)
        case .workflowTerminated(let e):
            self = .workflowTerminated(reason: e.reason)
        case .workflowCompensated:
            self = .workflowCompensated
        case .workflowCompensationFailed(let e):
            self = .workflowCompensationFailed(step: e.step)
        case .circuitRejected(let e):
            self = .circuitRejected(step: e.step, attempt: Int(e.attempt), key: e.key, fallback: e.fallback)
        case .circuitOpened(let e):
            self = .circuitOpened(key: e.key)
        case .circuitHalfOpened(let e):
            self = .circuitHalfOpened(key: e.key)
        case .circuitClosed(let e):
            self = .circuitClosed(key: e.key)
        }
    }
}

extension TimeoutKind {
    /// The API's timeout kind.
    public var proto: Baton_V1_TimeoutKind {
        switch self {
        case .scheduleToStart: .scheduleToStart
        case .startToClose: .startToClose
        case .scheduleToClose: .scheduleToClose
        case .heartbeat: .heartbeat
        }
    }

    init(proto: Baton_V1_TimeoutKind) throws(BatonError) {
        switch proto {
        case .scheduleToStart: self = .scheduleToStart
        case .startToClose: self = .startToClose
        case .scheduleToClose: self = .scheduleToClose
        case .heartbeat: self = .heartbeat
        case .unspecified, .UNRECOGNIZED: throw BatonError(.storage, "stored timeout kind \(proto.rawValue) is unknown")
        }
    }
}

extension TimerPurpose {
    /// The API's purpose, and the timeout kind for timeout timers (unspecified otherwise).
    public var proto: (Baton_V1_TimerPurpose, Baton_V1_TimeoutKind) {
        switch self {
        case .retryBackoff: (.retryBackoff, .unspecified)
        case .timeout(let kind): (.timeout, kind.proto)
        case .sleep: (.sleep, .unspecified)
        case .signalTimeout: (.signalTimeout, .unspecified)
        }
    }

    init(proto: Baton_V1_TimerPurpose, timeout: Baton_V1_TimeoutKind) throws(BatonError) {
        switch proto {
        case .retryBackoff: self = .retryBackoff
        case .timeout: self = .timeout(try TimeoutKind(proto: timeout))
        case .sleep: self = .sleep
        case .signalTimeout: self = .signalTimeout
        case .unspecified, .UNRECOGNIZED: throw BatonError(.storage, "stored timer purpose \(proto.rawValue) is unknown")
        }
    }
}
