import BatonCore
import BatonProto

extension WorkflowEvent {
    /// The API's history event: id, time, type name and the typed attributes (the same message the
    /// store keeps, so the API's attributes are exactly what was recorded).
    public var proto: Baton_V1_HistoryEvent {
        var event = Baton_V1_HistoryEvent()
        event.eventID = id
        event.time = time.proto
        event.type = kind.typeName
        event.attributes = kind.storageMessage.kind.map(Self.attributes)
        return event
    }

    /// The API's attributes of a stored event kind (same messages, same field numbers).
    static func attributes(_ kind: Baton_Storage_V1_Event.OneOf_Kind) -> Baton_V1_HistoryEvent.OneOf_Attributes {
        switch kind {
        case .workflowStarted(let attributes): .workflowStarted(attributes)
        case .stepScheduled(let attributes): .stepScheduled(attributes)
        case .stepStarted(let attributes): .stepStarted(attributes)
        case .stepHeartbeat(let attributes): .stepHeartbeat(attributes)
        case .stepCompleted(let attributes): .stepCompleted(attributes)
        case .stepFailed(let attributes): .stepFailed(attributes)
        case .stepTimedOut(let attributes): .stepTimedOut(attributes)
        case .stepSkipped(let attributes): .stepSkipped(attributes)
        case .timerStarted(let attributes): .timerStarted(attributes)
        case .timerFired(let attributes): .timerFired(attributes)
        case .signalReceived(let attributes): .signalReceived(attributes)
        case .signalWaitTimedOut(let attributes): .signalWaitTimedOut(attributes)
        case .cancelRequested(let attributes): .cancelRequested(attributes)
        case .sagaStarted(let attributes): .sagaStarted(attributes)
        case .compensationStarted(let attributes): .compensationStarted(attributes)
        case .compensationScheduled(let attributes): .compensationScheduled(attributes)
        case .compensationAttemptFailed(let attributes): .compensationAttemptFailed(attributes)
        case .compensationCompleted(let attributes): .compensationCompleted(attributes)
        case .compensationFailed(let attributes): .compensationFailed(attributes)
        case .workflowCompleted(let attributes): .workflowCompleted(attributes)
        case .workflowFailed(let attributes): .workflowFailed(attributes)
        case .workflowCancelled(let attributes): .workflowCancelled(attributes)
        case .workflowTerminated(let attributes): .workflowTerminated(attributes)
        case .workflowCompensated(let attributes): .workflowCompensated(attributes)
        case .workflowCompensationFailed(let attributes): .workflowCompensationFailed(attributes)
        case .circuitRejected(let attributes): .circuitRejected(attributes)
        case .circuitOpened(let attributes): .circuitOpened(attributes)
        case .circuitHalfOpened(let attributes): .circuitHalfOpened(attributes)
        case .circuitClosed(let attributes): .circuitClosed(attributes)
        }
    }
}
