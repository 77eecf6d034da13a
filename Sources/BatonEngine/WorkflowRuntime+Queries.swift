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
        case "state": return Self.stateJSON(state, definition: definition)
        case "steps": return Self.stepsJSON(state, definition: definition)
        case "output": return state.output
        default:
            guard let template = definition.queries[name] else {
                let known = (Self.builtinQueries + definition.queries.keys.sorted()).joined(separator: ", ")
                throw BatonError(.invalidArgument, "unknown query '\(name)' for workflow '\(workflowID)'; known: \(known)")
            }
            return template.evaluate(in: state)
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

    static func stateJSON(_ state: WorkflowState, definition: WorkflowDefinition) -> JSONValue {
        var object: [String: JSONValue] = [
            "workflow_id": .string(state.workflowID),
            "definition": .string(state.definitionName),
            "version": .number(Double(state.definitionVersion)),
            "status": .string(state.status.rawValue),
            "input": state.input,
            "output": state.output,
            "last_event_id": .number(Double(state.lastEventID)),
            "cancel_requested": .bool(state.cancelRequested),
            "steps": stepsJSON(state, definition: definition),
            "pending_signals": .array(state.pendingSignals.map { ["name": .string($0.name), "payload": $0.payload] }),
        ]
        if let failure = state.failure { object["failure"] = failure.json }
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

    static func stepsJSON(_ state: WorkflowState, definition: WorkflowDefinition) -> JSONValue {
        .array(definition.steps.map { step in
            let stepState = state.step(step.name)
            var object: [String: JSONValue] = [
                "name": .string(step.name),
                "status": .string(stepState.status.rawValue),
                "attempts": .number(Double(stepState.attempt)),
                "output": stepState.output,
            ]
            if let phase = step.phase { object["phase"] = .string(phase) }
            if let failure = stepState.lastFailure { object["last_failure"] = failure.json }
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
}

extension WorkflowProgress {
    /// The progress as a JSON object (snake_case keys, durations in milliseconds).
    public var json: JSONValue {
        func names(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        return [
            "workflow_id": .string(workflowID),
            "status": .string(status.rawValue),
            "compensating": .bool(compensating),
            "percentage": .number(percentage),
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
            "last_event_id": .number(Double(lastEventID)),
        ]
    }
}
