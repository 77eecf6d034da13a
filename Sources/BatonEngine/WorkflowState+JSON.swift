import BatonCore

extension WorkflowState {
    /// Writes this state in the exact shape of its synthesized `Codable` encoding, without `JSONEncoder`.
    public func write(to writer: inout JSONWriter) {
        writer.object { w in
            w.key("workflowID"); w.string(workflowID)
            w.key("definitionName"); w.string(definitionName)
            w.key("definitionVersion"); w.integer(definitionVersion)
            w.key("status"); w.string(status.rawValue)
            w.key("input"); w.value(input)
            w.key("steps")
            w.object { w in
                for (name, step) in steps {
                    w.key(name)
                    step.write(to: &w)
                }
            }
            w.key("completionOrder"); w.array { w in for name in completionOrder { w.string(name) } }
            w.key("pendingSignals")
            w.array { w in
                for signal in pendingSignals {
                    w.object { w in w.key("name"); w.string(signal.name); w.key("payload"); w.value(signal.payload) }
                }
            }
            w.key("signalRequestIDs"); w.array { w in for id in signalRequestIDs { w.string(id) } }
            w.key("timers")
            w.object { w in
                for (id, timer) in timers {
                    w.key(id)
                    w.object { w in
                        w.key("step"); w.string(timer.step)
                        w.key("attempt"); w.integer(timer.attempt)
                        w.key("purpose"); w.purpose(timer.purpose)
                        w.key("fireAt"); w.instant(timer.fireAt)
                    }
                }
            }
            w.key("cancelRequested"); w.bool(cancelRequested)
            w.member("cancelReason", cancelReason) { $0.string($1) }
            w.member("saga", saga) { w, saga in saga.write(to: &w) }
            w.member("compensationFailedStep", compensationFailedStep) { $0.string($1) }
            w.key("output"); w.value(output)
            w.member("failure", failure) { $0.failure($1) }
            w.member("failedStep", failedStep) { $0.string($1) }
            w.member("startedAt", startedAt) { $0.instant($1) }
            w.member("closedAt", closedAt) { $0.instant($1) }
            w.key("lastEventID"); w.integer(lastEventID)
        }
    }
}

extension StepState {
    /// Writes this step state in the exact shape of its synthesized `Codable` encoding.
    public func write(to writer: inout JSONWriter) {
        writer.object { w in
            w.key("status"); w.string(status.rawValue)
            w.key("attempt"); w.integer(attempt)
            w.key("input"); w.value(input)
            w.key("output"); w.value(output)
            w.member("lastFailure", lastFailure) { $0.failure($1) }
            w.key("heartbeatDetails"); w.value(heartbeatDetails)
            w.member("firstScheduledAt", firstScheduledAt) { $0.instant($1) }
            w.member("scheduledAt", scheduledAt) { $0.instant($1) }
            w.member("startedAt", startedAt) { $0.instant($1) }
            w.member("finishedAt", finishedAt) { $0.instant($1) }
        }
    }
}
