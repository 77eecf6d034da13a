import Yams

/// Workflow-level defaults applied to every step.
struct StepDefaults {
    var taskQueue: String?
    var retry = RetryPolicy()
    var timeouts = StepTimeouts()
}

/// Source nodes of a step, kept for locating validation issues.
struct StepNodes {
    var key: Node
    var dependsOn: [Node] = []
    var input: Node?
    var when: Node?
    var compensateInput: Node?
}

extension DefinitionReader {
    static let stepFields: Set<String> = [
        "activity", "wait_for_signal", "sleep", "depends_on", "input", "when", "phase", "weight", "circuit_breaker",
        "fallback", "compensate", "retry", "task_queue", "start_to_close_timeout", "schedule_to_start_timeout",
        "schedule_to_close_timeout", "heartbeat_timeout", "description",
    ]
    static let retryFields: Set<String> = [
        "initial_interval", "backoff_coefficient", "maximum_interval", "maximum_attempts", "non_retryable_error_types",
    ]
    static let kindFields = ["activity", "wait_for_signal", "sleep"]

    func readDefaults(_ node: Node) -> StepDefaults {
        var defaults = StepDefaults()
        guard let mapping = mapping(node, step: nil, field: "defaults") else { return defaults }
        let fields = self.fields(of: mapping, allowed: Self.defaultsFields, step: nil, prefix: "defaults.")
        defaults.taskQueue = fields["task_queue"].flatMap { string($0, step: nil, field: "defaults.task_queue") }
        if let retry = fields["retry"] { defaults.retry = readRetry(retry, base: defaults.retry, step: nil, prefix: "defaults.retry") }
        defaults.timeouts = readTimeouts(fields, base: defaults.timeouts, step: nil, prefix: "defaults.")
        return defaults
    }

    func readTimeouts(_ fields: [String: Node], base: StepTimeouts, step: String?, prefix: String) -> StepTimeouts {
        var timeouts = base
        if let node = fields["schedule_to_start_timeout"] {
            timeouts.scheduleToStart = duration(node, step: step, field: prefix + "schedule_to_start_timeout")
        }
        if let node = fields["start_to_close_timeout"] {
            timeouts.startToClose = duration(node, step: step, field: prefix + "start_to_close_timeout")
        }
        if let node = fields["schedule_to_close_timeout"] {
            timeouts.scheduleToClose = duration(node, step: step, field: prefix + "schedule_to_close_timeout")
        }
        if let node = fields["heartbeat_timeout"] {
            timeouts.heartbeat = duration(node, step: step, field: prefix + "heartbeat_timeout")
        }
        return timeouts
    }

    func readRetry(_ node: Node, base: RetryPolicy, step: String?, prefix: String) -> RetryPolicy {
        var policy = base
        guard let mapping = mapping(node, step: step, field: prefix) else { return policy }
        let fields = self.fields(of: mapping, allowed: Self.retryFields, step: step, prefix: prefix + ".")
        if let node = fields["initial_interval"], let value = duration(node, step: step, field: prefix + ".initial_interval") {
            policy.initialInterval = value
        }
        if let node = fields["backoff_coefficient"], let value = number(node, step: step, field: prefix + ".backoff_coefficient") {
            if value >= 1, value <= 100 {
                policy.backoffCoefficient = value
            } else {
                issue(step, prefix + ".backoff_coefficient", location(node), "backoff_coefficient must be between 1 and 100, got \(JSONValue.format(value))")
            }
        }
        if let node = fields["maximum_interval"], let value = duration(node, step: step, field: prefix + ".maximum_interval") {
            if value < policy.initialInterval {
                issue(step, prefix + ".maximum_interval", location(node), "maximum_interval \(value) is shorter than initial_interval \(policy.initialInterval)")
            } else {
                policy.maximumInterval = value
            }
        }
        if let node = fields["maximum_attempts"],
            let value = integer(node, step: step, field: prefix + ".maximum_attempts", minimum: 0)
        {
            policy.maximumAttempts = value
        }
        if let node = fields["non_retryable_error_types"] {
            if case .sequence(let items) = node {
                policy.nonRetryableErrorTypes = items.compactMap {
                    string($0, step: step, field: prefix + ".non_retryable_error_types")
                }
            } else {
                issue(step, prefix + ".non_retryable_error_types", location(node), "expected a list of error type names")
            }
        }
        return policy
    }

    func readBreakers(_ node: Node) -> [String: CircuitBreakerPolicy] {
        guard let mapping = mapping(node, step: nil, field: "circuit_breakers") else { return [:] }
        var result: [String: CircuitBreakerPolicy] = [:]
        for (key, value) in mapping {
            guard let name = self.name(key, step: nil, field: "circuit_breakers"),
                  let body = self.mapping(value, step: nil, field: "circuit_breakers.\(name)") else { continue }
            let prefix = "circuit_breakers.\(name)."
            let fields = self.fields(of: body, allowed: Self.breakerFields, step: nil, prefix: prefix)
            var policy = CircuitBreakerPolicy()
            if let node = fields["failure_threshold"], let value = integer(node, step: nil, field: prefix + "failure_threshold", minimum: 1) {
                policy.failureThreshold = value
            }
            if let node = fields["reset_timeout"], let value = duration(node, step: nil, field: prefix + "reset_timeout") {
                policy.resetTimeout = value
            }
            if let node = fields["half_open_max_calls"], let value = integer(node, step: nil, field: prefix + "half_open_max_calls", minimum: 1) {
                policy.halfOpenMaxCalls = value
            }
            if let node = fields["failure_rate"], let value = number(node, step: nil, field: prefix + "failure_rate") {
                if value > 0, value <= 1 {
                    policy.failureRate = value
                } else {
                    issue(nil, prefix + "failure_rate", location(node), "failure_rate must be in (0, 1], got \(JSONValue.format(value))")
                }
            }
            if let node = fields["window"], let value = integer(node, step: nil, field: prefix + "window", minimum: 1) {
                policy.window = value
            }
            result[name] = policy
        }
        return result
    }

    func readSteps(_ node: Node, defaults: StepDefaults) -> ([StepDefinition], [String: StepNodes]) {
        guard let mapping = mapping(node, step: nil, field: "steps") else { return ([], [:]) }
        if mapping.count == 0 { issue(nil, "steps", location(node), "a workflow needs at least one step") }
        if mapping.count > DefinitionLimits.maximumSteps {
            issue(nil, "steps", location(node),
                  "\(mapping.count) steps, over the limit of \(DefinitionLimits.maximumSteps) steps per definition")
            return ([], [:])
        }
        var steps: [StepDefinition] = []
        var nodes: [String: StepNodes] = [:]
        for (key, value) in mapping {
            guard let name = key.string, !name.isEmpty else {
                issue(nil, "steps", location(key), "step names must be non-empty strings")
                continue
            }
            if name.contains(".") || name.contains(" ") {
                issue(name, "steps", location(key), "step names may not contain '.' or spaces")
            }
            var stepNodes = StepNodes(key: key)
            if let step = readStep(name, key: key, value, defaults: defaults, nodes: &stepNodes) {
                steps.append(step)
                nodes[name] = stepNodes
            }
        }
        return (steps, nodes)
    }

    private func readStep(
        _ name: String, key: Node, _ node: Node, defaults: StepDefaults, nodes: inout StepNodes
    ) -> StepDefinition? {
        guard let mapping = mapping(node, step: name, field: "steps.\(name)") else { return nil }
        let fields = self.fields(of: mapping, allowed: Self.stepFields, step: name, prefix: "")
        let kinds = Self.kindFields.filter { fields[$0] != nil }
        guard let kindField = kinds.first else {
            issue(name, "activity", location(key), "step has no kind; set one of activity, wait_for_signal, sleep")
            return nil
        }
        if kinds.count > 1 {
            issue(name, kinds[1], location(fields[kinds[1]]!), "step has more than one kind: \(kinds.joined(separator: ", "))")
        }
        var kind = StepDefinition.Kind.activity("")
        let kindNode = fields[kindField]!
        switch kindField {
        case "activity":
            kind = .activity(activityName(kindNode, step: name, field: "activity") ?? "")
        case "sleep":
            if case .mapping(let body) = kindNode {
                let sleepFields = self.fields(of: body, allowed: ["duration"], step: name, prefix: "sleep.")
                if let durationNode = sleepFields["duration"] {
                    kind = .sleep(duration(durationNode, step: name, field: "sleep.duration") ?? .zero)
                } else {
                    issue(name, "sleep.duration", location(kindNode), "missing required field 'duration'")
                }
            } else {
                kind = .sleep(duration(kindNode, step: name, field: "sleep") ?? .zero)
            }
        default:
            kind = .waitForSignal(readSignalWait(kindNode, step: name))
        }
        var step = StepDefinition(name: name, kind: kind, location: location(key))
        if let node = fields["depends_on"] {
            switch node {
            case .sequence(let items):
                for item in items {
                    if let dependency = string(item, step: name, field: "depends_on") {
                        if step.dependsOn.contains(dependency) {
                            issue(name, "depends_on", location(item), "'\(dependency)' is listed twice")
                        } else {
                            step.dependsOn.append(dependency)
                            nodes.dependsOn.append(item)
                        }
                    }
                }
            case .scalar:
                if let dependency = string(node, step: name, field: "depends_on") {
                    step.dependsOn = [dependency]
                    nodes.dependsOn = [node]
                }
            default:
                issue(name, "depends_on", location(node), "expected a list of step names")
            }
        }
        if let node = fields["input"] {
            step.input = template(node, step: name, field: "input") ?? .null
            nodes.input = node
        }
        if let node = fields["when"] {
            step.when = condition(node, step: name)
            nodes.when = node
        }
        step.phase = fields["phase"].flatMap { string($0, step: name, field: "phase") }
        if let node = fields["weight"], let value = number(node, step: name, field: "weight") {
            if value >= 0 { step.weight = value } else { issue(name, "weight", location(node), "weight must be ≥ 0") }
        }
        step.circuitBreaker = fields["circuit_breaker"].flatMap { self.name($0, step: name, field: "circuit_breaker") }
        if let node = fields["fallback"] {
            let value = json(node)
            if let violation = value.limitViolation(field: "fallback") {
                issue(name, "fallback", location(node), violation)
            } else {
                step.fallback = value
            }
        }
        step.taskQueue = fields["task_queue"].flatMap { self.name($0, step: name, field: "task_queue") } ?? defaults.taskQueue
        step.retry = fields["retry"].map { readRetry($0, base: defaults.retry, step: name, prefix: "retry") } ?? defaults.retry
        step.timeouts = readTimeouts(fields, base: defaults.timeouts, step: name, prefix: "")
        if let node = fields["compensate"] { step.compensate = readCompensation(node, step: name, defaults: defaults, nodes: &nodes) }
        return step
    }

    private func readSignalWait(_ node: Node, step: String) -> SignalWait {
        if case .scalar = node { return SignalWait(name: string(node, step: step, field: "wait_for_signal") ?? "") }
        var wait = SignalWait(name: "")
        guard let mapping = mapping(node, step: step, field: "wait_for_signal") else { return wait }
        let fields = self.fields(of: mapping, allowed: ["name", "timeout", "on_timeout"], step: step, prefix: "wait_for_signal.")
        if let nameNode = fields["name"] {
            wait.name = self.name(nameNode, step: step, field: "wait_for_signal.name") ?? ""
        } else {
            issue(step, "wait_for_signal.name", location(node), "missing required field 'name'")
        }
        wait.timeout = fields["timeout"].flatMap { duration($0, step: step, field: "wait_for_signal.timeout") }
        if let policyNode = fields["on_timeout"] {
            if let text = policyNode.string, let policy = SignalWait.OnTimeout(rawValue: text) {
                wait.onTimeout = policy
            } else {
                issue(step, "wait_for_signal.on_timeout", location(policyNode), "on_timeout must be fail, compensate or continue")
            }
        }
        return wait
    }

    private func readCompensation(_ node: Node, step: String, defaults: StepDefaults, nodes: inout StepNodes) -> Compensation? {
        guard let mapping = mapping(node, step: step, field: "compensate") else { return nil }
        let fields = self.fields(of: mapping, allowed: ["activity", "input", "retry"], step: step, prefix: "compensate.")
        guard let activityNode = fields["activity"] else {
            issue(step, "compensate.activity", location(node), "missing required field 'activity'")
            return nil
        }
        var compensation = Compensation(activity: activityName(activityNode, step: step, field: "compensate.activity") ?? "", retry: defaults.retry)
        if let inputNode = fields["input"] {
            compensation.input = template(inputNode, step: step, field: "compensate.input") ?? .null
            nodes.compensateInput = inputNode
        }
        if let retryNode = fields["retry"] {
            compensation.retry = readRetry(retryNode, base: defaults.retry, step: step, prefix: "compensate.retry")
        }
        return compensation
    }

    /// Parses a `when` condition: a boolean literal or an expression whose references use `${...}`.
    private func condition(_ node: Node, step: String) -> Expression? {
        let value = json(node)
        if case .bool = value { return .literal(value) }
        guard case .string(let text) = value else {
            issue(step, "when", location(node), "when must be a boolean expression")
            return nil
        }
        do {
            let expression = try Expression.parse(text)
            let type = try expression.typeCheck()
            guard type == .bool || type == .any else {
                issue(step, "when", location(node), "when must be boolean, got \(type.rawValue)")
                return nil
            }
            return expression
        } catch {
            issue(step, "when", location(node, offset: error.offset), "expression error: \(error.message)")
            return nil
        }
    }
}
