import BatonCore
import BatonEngine
import BatonProto
import Foundation
import SwiftProtobuf

extension Instant {
    /// This instant as a `google.protobuf.Timestamp`.
    var proto: Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: millisecondsSinceEpoch / 1000,
                                  nanos: Int32(millisecondsSinceEpoch % 1000) * 1_000_000)
    }

    /// The instant of a `google.protobuf.Timestamp` (millisecond precision).
    init(proto timestamp: Google_Protobuf_Timestamp) {
        // A client's timestamp may be anything: clamp instead of overflowing.
        let (millis, overflow) = timestamp.seconds.multipliedReportingOverflow(by: 1000)
        let base = overflow ? (timestamp.seconds < 0 ? Int64.min / 2 : Int64.max / 2) : millis
        self.init(millisecondsSinceEpoch: base.addingReportingOverflow(Int64(timestamp.nanos) / 1_000_000).partialValue)
    }
}

extension WorkflowStatus {
    /// The API's status enum.
    var proto: Baton_V1_WorkflowStatus {
        switch self {
        case .running: .running
        case .completed: .completed
        case .failed: .failed
        case .cancelled: .cancelled
        case .terminated: .terminated
        case .compensated: .compensated
        case .compensationFailed: .compensationFailed
        case .corrupted: .corrupted
        }
    }

    /// The engine status of an API status (nil for UNSPECIFIED or unknown values).
    init?(proto: Baton_V1_WorkflowStatus) {
        switch proto {
        case .running: self = .running
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .terminated: self = .terminated
        case .compensated: self = .compensated
        case .compensationFailed: self = .compensationFailed
        case .corrupted: self = .corrupted
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}

extension StepState.Status {
    /// The API's step status.
    var proto: Baton_V1_StepStatus {
        switch self {
        case .pending: .pending
        case .scheduled, .started: .running
        case .backoff: .retrying
        case .completed: .completed
        case .failed: .failed
        case .skipped: .skipped
        }
    }
}

extension ActivityFailure {
    /// The API's failure message, naming `step` when given.
    func proto(step: String?) -> Baton_V1_Failure {
        Baton_V1_Failure.with {
            $0.type = type
            $0.message = message
            if details != .null { $0.details = details.proto }
            $0.nonRetryable = nonRetryable
            $0.step = step ?? ""
        }
    }
}

extension WorkflowState {
    /// The run's summary.
    var protoInfo: Baton_V1_WorkflowInfo {
        Baton_V1_WorkflowInfo.with {
            $0.workflowID = workflowID
            $0.definition = .with { ref in
                ref.name = definitionName
                ref.version = Int32(definitionVersion)
            }
            $0.status = status.proto
            if let startedAt { $0.startTime = startedAt.proto }
            if let closedAt { $0.closeTime = closedAt.proto }
            $0.lastEventID = lastEventID
        }
    }

    /// The run's full description; `definition` orders the steps and supplies their kinds.
    func protoDescription(definition: WorkflowDefinition?) -> Baton_V1_WorkflowDescription {
        Baton_V1_WorkflowDescription.with { description in
            description.info = protoInfo
            description.input = input.proto
            if output != .null { description.output = output.proto }
            if let failure { description.failure = failure.proto(step: failedStep) }
            let names = definition?.steps.map(\.name) ?? steps.keys.sorted()
            description.steps = names.map { name in
                let state = step(name)
                let declared = definition?.steps.first { $0.name == name }
                return Baton_V1_StepInfo.with {
                    $0.name = name
                    $0.status = state.status.proto
                    $0.attempts = Int32(state.attempt)
                    if state.output != .null { $0.output = state.output.proto }
                    if let failure = state.lastFailure { $0.lastFailure = failure.proto(step: name) }
                    if let declared {
                        $0.phase = declared.phase ?? ""
                        $0.kind = declared.kind.apiName
                        $0.activity = declared.activity ?? ""
                    }
                }
            }
        }
    }
}

extension WorkflowEvent {
    /// The API's history event: the type name and the event's fields as a JSON object.
    var proto: Baton_V1_HistoryEvent {
        Baton_V1_HistoryEvent.with {
            $0.eventID = id
            $0.time = time.proto
            $0.type = kind.typeName
            $0.attributes = kind.attributes.protoStruct
        }
    }
}

extension EventKind {
    /// The event's fields as a JSON object: the payload of the event's stored JSON form
    /// (`{"caseName": {fields}}`, written by the engine's one event encoder).
    var attributes: JSONValue {
        var writer = JSONWriter()
        write(to: &writer)
        guard let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(writer.bytes)),
              case .object(let wrapper) = decoded, case .object(let fields)? = wrapper.values.first
        else { return .object([:]) }
        return .object(fields)
    }
}

extension StepDefinition.Kind {
    /// The kind's name in definitions and the API: activity, wait_for_signal or sleep.
    var apiName: String {
        switch self {
        case .activity: "activity"
        case .waitForSignal: "wait_for_signal"
        case .sleep: "sleep"
        }
    }
}
