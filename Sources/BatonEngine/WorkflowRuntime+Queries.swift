import BatonCore

extension WorkflowRuntime {
    /// The built-in query names; definitions may declare more under `queries:`.
    public static let builtinQueries = ["progress", "state", "steps", "output"]

    /// Answers a read-only query from the workflow's current state, for open and closed runs; nothing
    /// is written to history. Built-ins: `progress` (``WorkflowProgress`` as JSON), `state` (status,
    /// input, output, failure, timestamps, steps), `steps` (one object per step), `output`; plus every
    /// named query the pinned definition declares (`queries: { name: "${expr}" }`).
    /// Throws `.notFound` for unknown workflows and `.invalidArgument` naming an unknown query.
    public func query(_ workflowID: String, _ name: String) async throws(BatonError) -> JSONValue {
        let (state, definition) = try await stateAndDefinition(workflowID)
        switch name {
        case "progress": return progress(of: state, definition: definition).json
        case "state":
            var budget = ValueBudget()
            return Self.stateJSON(state, definition: definition, within: &budget)
        case "steps":
            var budget = ValueBudget()
            return Self.stepsJSON(state, definition: definition, within: &budget)
        case "output": return state.output
        default:
            guard let template = definition.queries[name] else {
                let known = (Self.builtinQueries + definition.queries.keys.sorted()).joined(separator: ", ")
                throw BatonError(.invalidArgument, "unknown query '\(name)' for workflow '\(workflowID)'; known: \(known)")
            }
            let answer = template.evaluate(in: state)
            let size = answer.compactSize
            guard size <= ValueBudget.readLimit else {
                throw BatonError(.resourceExhausted, "query '\(name)' of workflow '\(workflowID)' answers \(size) bytes of "
                                 + "JSON, over the limit of \(ValueBudget.readLimit) bytes for a query answer; "
                                 + "read the values from the history")
            }
            return answer
        }
    }

    /// The workflow's progress now (also for closed runs).
    public func progress(_ workflowID: String) async throws(BatonError) -> WorkflowProgress {
        let (state, definition) = try await stateAndDefinition(workflowID)
        return progress(of: state, definition: definition)
    }

    /// Every circuit breaker used so far, with its state.
    public func circuitBreakers() -> [CircuitBreakerStatus] {
        breakers.list()
    }

    /// Closes the circuit breaker `key` and persists it; throws `.notFound` for a key never used.
    @discardableResult
    public func resetCircuitBreaker(_ key: String) async throws(BatonError) -> CircuitBreakerStatus {
        let status = try breakers.reset(key, now: clock.now())
        try await store.saveCircuitBreakers(breakers.committedSnapshots().filter { $0.key == key })
        return status
    }

    func progress(of state: WorkflowState, definition: WorkflowDefinition) -> WorkflowProgress {
        let durations = self.durations
        return WorkflowProgress(state: state, definition: definition, now: clock.now()) { durations.expected($0) }
    }

    func stateAndDefinition(_ workflowID: String) async throws(BatonError) -> (WorkflowState, WorkflowDefinition) {
        if let run = quarantinedWorkflows()[workflowID] {
            throw BatonError(.failedPrecondition, "workflow '\(workflowID)' is quarantined (CORRUPTED): \(run.error)")
        }
        guard let state = try await shard(for: workflowID).state(of: workflowID) else {
            throw BatonError(.notFound, "no workflow '\(workflowID)'")
        }
        if let cached = registry.cachedDefinition(named: state.definitionName, version: state.definitionVersion) {
            return (state, cached.0)
        }
        let (definition, _) = try await registry.definition(named: state.definitionName, version: state.definitionVersion)
        return (state, definition)
    }

    /// The `state` query's answer. Its values add up to at most `budget`: step outputs and pending
    /// signal payloads past it are `null` with `output_omitted` / `payload_omitted`, failures lose
    /// their details (`details_omitted`); the history has everything.
    static func stateJSON(_ state: WorkflowState, definition: WorkflowDefinition,
                          within budget: inout ValueBudget) -> JSONValue {
        budget.charge(state.input)
        budget.charge(state.output)
        let failure = state.failure.map { $0.json(within: &budget) }
        let steps = stepsJSON(state, definition: definition, within: &budget)
        let signals: [JSONValue] = state.pendingSignals.map { signal in
            var entry: [String: JSONValue] = ["name": .string(signal.name), "payload": .null]
            if budget.admit(signal.payload) { entry["payload"] = signal.payload } else { entry["payload_omitted"] = true }
            return .object(entry)
        }
        var object: [String: JSONValue] = [
            "workflow_id": .string(state.workflowID),
            "definition": .string(state.definitionName),
            "version": .number(Double(state.definitionVersion)),
            "status": .string(state.status.rawValue),
            "input": state.input,
            "output": state.output,
            "last_event_id": .number(Double(state.lastEventID)),
            "cancel_requested": .bool(state.cancelRequested),
            "steps": steps,
            "pending_signals": .array(signals),
        ]
        if let failure { object["failure"] = failure }
        if let step = state.failedStep { object["failed_step"] = .string(step) }
        if let step = state.compensationFailedStep { object["compensation_failed_step"] = .string(step) }
        if let started = state.startedAt { object["started_at_ms"] = .number(Double(started.millisecondsSinceEpoch)) }
        if let closed = state.closedAt { object["closed_at_ms"] = .number(Double(closed.millisecondsSinceEpoch)) }
        if let saga = state.saga {
            object["saga"] = [
                "compensated": .array(saga.compensated.map { .string($0) }),
                "failed": .array(saga.failed.map { .string($0) }),
                "remaining": .array(saga.remaining.map { .string($0) }),
                "current": saga.current.map { .string($0) } ?? .null,
            ]
        }
        return .object(object)
    }

    /// The `steps` query's answer (one object per step), its values within `budget` as in ``stateJSON``.
    static func stepsJSON(_ state: WorkflowState, definition: WorkflowDefinition,
                          within budget: inout ValueBudget) -> JSONValue {
        .array(definition.steps.map { step in
            let stepState = state.step(step.name)
            var object: [String: JSONValue] = [
                "name": .string(step.name),
                "status": .string(state.report(ofStep: step.name).rawValue),
                "attempts": .number(Double(stepState.attempt)),
                "output": .null,
            ]
            if budget.admit(stepState.output) { object["output"] = stepState.output } else { object["output_omitted"] = true }
            if let phase = step.phase { object["phase"] = .string(phase) }
            if let failure = stepState.lastFailure { object["last_failure"] = failure.json(within: &budget) }
            if let started = stepState.startedAt { object["started_at_ms"] = .number(Double(started.millisecondsSinceEpoch)) }
            if let finished = stepState.finishedAt { object["finished_at_ms"] = .number(Double(finished.millisecondsSinceEpoch)) }
            return .object(object)
        })
    }
}

extension ActivityFailure {
    /// `{type, message, details, non_retryable}`.
    var json: JSONValue {
        ["type": .string(type), "message": .string(message), "details": details, "non_retryable": .bool(nonRetryable)]
    }

    /// ``json`` within `budget`: when the message and details do not fit, the details are `null` with
    /// `details_omitted` and the message is cut to its first 256 bytes.
    func json(within budget: inout ValueBudget) -> JSONValue {
        if budget.admit(size: message.utf8.count + details.compactSize) { return json }
        return ["type": .string(type), "message": .string(Self.cut(message)), "details": .null,
                "details_omitted": true, "non_retryable": .bool(nonRetryable)]
    }
}

extension WorkflowProgress {
    /// The progress as a JSON object (snake_case keys, durations in milliseconds).
    public var json: JSONValue {
        func names(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        return [
            "workflow_id": .string(workflowID),
            "status": .string(status.rawValue),
            "compensating": .bool(compensating),
            "percentage": .number((percentage * 10).rounded() / 10),
            "current_phase": currentPhase.map { .string($0) } ?? .null,
            "running": names(running),
            "completed": names(completed),
            "failed": names(failed),
            "skipped": names(skipped),
            "pending": names(pending),
            "attempts": .object(attempts.mapValues { .number(Double($0)) }),
            "waiting_for_signals": .object(waitingForSignals.mapValues { .string($0) }),
            "elapsed_ms": .number(Double(elapsed.milliseconds)),
            "eta_ms": eta.map { .number(Double($0.milliseconds)) } ?? .null,
            "eta_until_signal": etaUntilSignal.map { .string($0) } ?? .null,
            "last_event_id": .number(Double(lastEventID)),
        ]
    }
}
