import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import Foundation
import SwiftProtobuf

extension StepReport {
    /// The API's step status.
    var proto: Baton_V1_StepStatus {
        switch self {
        case .pending: .pending
        case .running: .running
        case .retrying: .retrying
        case .completed: .completed
        case .failed: .failed
        case .skipped: .skipped
        case .compensated: .compensated
        case .cancelled: .cancelled
        }
    }
}

extension WorkflowState {
    /// The run's summary.
    var protoInfo: Baton_V1_WorkflowInfo {
        Baton_V1_WorkflowInfo.with {
            $0.workflowID = publicWorkflowID
            $0.runID = publicRunID
            if let trace { $0.traceID = trace.traceID }
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

    /// The run's full description; `definition` orders the steps and supplies their kinds. Its values
    /// (input, output, failures, step outputs) add up to at most ``ValueBudget/readLimit`` bytes: step
    /// outputs past it are left out (`output_omitted`), step failures lose their details
    /// (`details_omitted`), so the description fits a 4 MiB message; everything is in the history.
    func protoDescription(definition: WorkflowDefinition?) -> Baton_V1_WorkflowDescription {
        Baton_V1_WorkflowDescription.with { description in
            var budget = ValueBudget()
            description.info = protoInfo
            description.input = input.proto
            budget.charge(input)
            if output != .null { description.output = output.proto }
            budget.charge(output)
            if let failure { description.failure = failure.proto(step: failedStep, within: &budget) }
            let names = definition?.steps.map(\.name) ?? steps.keys.sorted()
            description.steps = names.map { name in
                let state = step(name)
                let declared = definition?.step(name)
                return Baton_V1_StepInfo.with {
                    $0.name = name
                    $0.status = report(ofStep: name).proto
                    $0.attempts = Int32(state.attempt)
                    if state.output != .null {
                        if budget.admit(state.output) {
                            $0.output = state.output.proto
                        } else {
                            $0.outputOmitted = true
                        }
                    }
                    if let failure = state.lastFailure { $0.lastFailure = failure.proto(step: name, within: &budget) }
                    if let declared {
                        $0.phase = declared.phase ?? ""
                        $0.kind = declared.kind.apiName
                        $0.activity = declared.activity ?? ""
                        $0.dependsOn = declared.dependsOn
                        if case .waitForSignal(let wait) = declared.kind { $0.signal = wait.name }
                        $0.compensationActivity = declared.compensate?.activity ?? ""
                        if let deadline = waitDeadline(ofStep: name, declared) { $0.waitDeadline = deadline.proto }
                    }
                }
            }
        }
    }
}

extension WorkflowState {
    /// When a running wait_for_signal step's timeout fires, or a running sleep step wakes.
    func waitDeadline(ofStep name: String, _ declared: StepDefinition) -> Instant? {
        guard report(ofStep: name) == .running else { return nil }
        let purpose: TimerPurpose
        switch declared.kind {
        case .waitForSignal: purpose = .signalTimeout
        case .sleep: purpose = .sleep
        case .activity: return nil
        }
        return timers.values.first { $0.step == name && $0.purpose == purpose }?.fireAt
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
