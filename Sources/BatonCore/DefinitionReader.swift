import Yams

/// Walks a composed YAML node tree, building the model and collecting issues.
final class DefinitionReader {
    let source: String
    var issues: [ValidationIssue] = []
    var cause: String?

    static let workflowFields: Set<String> = [
        "name", "version", "description", "defaults", "steps", "output", "on_failure", "queries", "circuit_breakers",
        "input_schema",
    ]
    static let defaultsFields: Set<String> = [
        "task_queue", "retry", "start_to_close_timeout", "schedule_to_start_timeout", "schedule_to_close_timeout",
        "heartbeat_timeout",
    ]
    static let breakerFields: Set<String> = [
        "failure_threshold", "reset_timeout", "half_open_max_calls", "failure_rate", "window",
    ]

    init(source: String) { self.source = source }

    /// Whether `node`, aliases expanded, has at most `budget` nodes; stops counting as soon as it has more.
    static func fits(_ node: Node, within budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping where !fits(key, within: &budget) || !fits(value, within: &budget) { return false }
        case .sequence(let sequence):
            for item in sequence where !fits(item, within: &budget) { return false }
        default:
            break
        }
        return true
    }

    func read() -> WorkflowDefinition? {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: source) else {
                issue(nil, "", nil, "the definition is empty")
                return nil
            }
            root = node
        } catch let error as YamlError {
            reportYamlError(error)
            return nil
        } catch {
            issue(nil, "", nil, "cannot read the definition: \(error)")
            cause = String(describing: error)
            return nil
        }
        var budget = DefinitionLimits.maximumYAMLNodes
        guard Self.fits(root, within: &budget) else {
            issue(nil, "", location(root),
                  "the definition expands to more than \(DefinitionLimits.maximumYAMLNodes) YAML nodes with its aliases "
                  + "expanded (limit \(DefinitionLimits.maximumYAMLNodes))")
            return nil
        }
        guard case .mapping(let mapping) = root else {
            issue(nil, "", location(root), "the definition must be a mapping")
            return nil
        }
        let fields = self.fields(of: mapping, allowed: Self.workflowFields, step: nil, prefix: "")
        let name = fields["name"].flatMap { self.name($0, step: nil, field: "name") } ?? ""
        if fields["name"] == nil { issue(nil, "name", location(root), "missing required field 'name'") }
        var declaredVersion: Int?
        if let node = fields["version"] {
            if let value = node.int, value >= 1 { declaredVersion = value } else {
                issue(nil, "version", location(node), "version must be an integer ≥ 1")
            }
        }
        let defaults = fields["defaults"].map { readDefaults($0) } ?? StepDefaults()
        var onFailure = WorkflowDefinition.FailurePolicy.fail
        if let node = fields["on_failure"] {
            if let text = node.string, let policy = WorkflowDefinition.FailurePolicy(rawValue: text) {
                onFailure = policy
            } else {
                issue(nil, "on_failure", location(node), "on_failure must be 'fail' or 'compensate'")
            }
        }
        let breakers = fields["circuit_breakers"].map { readBreakers($0) } ?? [:]
        let inputSchema = fields["input_schema"].flatMap { readInputSchema($0, field: "input_schema") }
        var steps: [StepDefinition] = []
        var stepNodes: [String: StepNodes] = [:]
        if let node = fields["steps"] {
            (steps, stepNodes) = readSteps(node, defaults: defaults)
        } else {
            issue(nil, "steps", location(root), "missing required field 'steps'")
        }
        var output: Template?
        if let node = fields["output"] { output = template(node, step: nil, field: "output") }
        var queries: [String: Template] = [:]
        if let node = fields["queries"], let queryMapping = self.mapping(node, step: nil, field: "queries") {
            for (key, value) in queryMapping {
                guard let queryName = self.name(key, step: nil, field: "queries") else { continue }
                if let compiled = template(value, step: nil, field: "queries.\(queryName)") {
                    queries[queryName] = compiled
                }
            }
        }
        var content = json(root)
        if case .object(var members) = content {
            members["version"] = nil
            content = .object(members)
        }
        let definition = WorkflowDefinition(
            name: name, declaredVersion: declaredVersion,
            description: fields["description"].flatMap { $0.string }, steps: steps, output: output,
            onFailure: onFailure, queries: queries, circuitBreakers: breakers, canonicalContent: content.canonicalText,
            inputSchema: inputSchema)
        DefinitionValidator(reader: self, definition: definition, nodes: stepNodes, root: fields).validate()
        return definition
    }

    // MARK: - Issues

    func issue(_ step: String?, _ field: String, _ location: SourceLocation?, _ message: String) {
        issues.append(ValidationIssue(step: step, field: field, location: location, message: message))
    }

    func location(_ node: Node) -> SourceLocation? {
        node.mark.map { SourceLocation(line: $0.line, column: $0.column) }
    }

    /// Location of character `offset` inside a scalar string (exact for single-line scalars).
    func location(_ node: Node, offset: Int) -> SourceLocation? {
        guard case .scalar(let scalar) = node, let mark = scalar.mark else { return location(node) }
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        let prefix = scalar.string.prefix(offset)
        if prefix.contains("\n") { return SourceLocation(line: mark.line, column: mark.column) }
        return SourceLocation(line: mark.line, column: mark.column + offset + (quoted ? 1 : 0))
    }

    private func reportYamlError(_ error: YamlError) {
        cause = String(describing: error)
        switch error {
        case .duplicatedKeysInMapping(let duplicates, let context):
            for key in duplicates {
                let (first, second) = duplicateLocations(key: key, firstLine: context.mark.line)
                let parent = parentKey(ofLine: first.line, column: first.column)
                let isStep = parent == "steps"
                issue(
                    isStep ? key : nil, isStep ? "steps" : (parent ?? key), second,
                    (isStep ? "duplicate step '\(key)'" : "duplicate key '\(key)'") + " (first defined at \(first))")
            }
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            issue(nil, "", SourceLocation(line: mark.line, column: mark.column), "syntax error: \(problem)")
        default:
            issue(nil, "", nil, "syntax error: \(error)")
        }
    }

    /// Finds the first and the next occurrence of `key:` at the same indentation, by scanning the text.
    private func duplicateLocations(key: String, firstLine: Int) -> (SourceLocation, SourceLocation?) {
        let lines = yamlLines
        var found: [SourceLocation] = []
        for (index, line) in lines.enumerated() where index + 1 >= firstLine {
            let trimmed = line.drop(while: { $0 == " " })
            let column = line.count - trimmed.count + 1
            for spelling in ["\(key):", "\"\(key)\":", "'\(key)':"] where trimmed.hasPrefix(spelling) {
                if found.isEmpty || found[0].column == column {
                    found.append(SourceLocation(line: index + 1, column: column))
                }
            }
            if found.count == 2 { break }
        }
        let first = found.first ?? SourceLocation(line: firstLine, column: 1)
        return (first, found.count > 1 ? found[1] : first)
    }

    /// The source's lines as YAML counts them — broken at CR LF, CR or LF — so line numbers from the
    /// parser index them (a Swift `Character` split would keep "\r\n" and a lone "\r" inside lines).
    private var yamlLines: [Substring] {
        var lines: [Substring] = []
        var start = source.startIndex
        var index = source.unicodeScalars.startIndex
        while index < source.unicodeScalars.endIndex {
            let scalar = source.unicodeScalars[index]
            let next = source.unicodeScalars.index(after: index)
            if scalar == "\n" || scalar == "\r" {
                lines.append(Substring(source.unicodeScalars[start..<index]))
                var end = next
                if scalar == "\r", end < source.unicodeScalars.endIndex, source.unicodeScalars[end] == "\n" {
                    end = source.unicodeScalars.index(after: end)
                }
                start = end
                index = end
            } else {
                index = next
            }
        }
        lines.append(Substring(source.unicodeScalars[start...]))
        return lines
    }

    /// The key of the nearest less-indented line above `line` (block style only).
    private func parentKey(ofLine line: Int, column: Int) -> String? {
        let lines = yamlLines
        var index = min(line - 2, lines.count - 1)
        while index >= 0 {
            let text = lines[index]
            let trimmed = text.drop(while: { $0 == " " })
            let indent = text.count - trimmed.count + 1
            if !trimmed.isEmpty, !trimmed.hasPrefix("#"), indent < column {
                return trimmed.split(separator: ":").first.map { $0.trimmed(of: "\"' ") }
            }
            index -= 1
        }
        return nil
    }

    // MARK: - Node helpers

    /// The mapping's fields by name, reporting unknown ones.
    func fields(of mapping: Node.Mapping, allowed: Set<String>, step: String?, prefix: String) -> [String: Node] {
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                // A key with a tag (`!input: …`) or of another kind is no field name: refused, never skipped.
                issue(step, prefix + (key.scalar?.string ?? ""), location(key),
                      "unknown field: a key must be a plain string (this one is \(key.tag.description))")
                continue
            }
            if allowed.contains(name) {
                result[name] = value
            } else {
                issue(step, prefix + name, location(key), "unknown field '\(name)'")
            }
        }
        return result
    }

    func mapping(_ node: Node, step: String?, field: String) -> Node.Mapping? {
        if case .mapping(let mapping) = node { return mapping }
        issue(step, field, location(node), "expected a mapping")
        return nil
    }

    func string(_ node: Node, step: String?, field: String) -> String? {
        if case .scalar(let scalar) = node, !scalar.string.isEmpty { return scalar.string }
        issue(step, field, location(node), "expected a non-empty string")
        return nil
    }

    /// A name (``NameRule``): a non-empty string without control characters, at most 200 characters.
    func name(_ node: Node, step: String?, field: String) -> String? {
        guard let value = string(node, step: step, field: field) else { return nil }
        if let problem = NameRule.problem(value) {
            issue(step, field, location(node), "'\(Self.printable(value))' \(problem)")
            return nil
        }
        return value
    }

    /// An activity name: a name, and for `builtin.*` one of the built-ins.
    func activityName(_ node: Node, step: String?, field: String) -> String? {
        guard let value = name(node, step: step, field: field) else { return nil }
        if value.hasPrefix(BuiltinActivities.prefix), !BuiltinActivities.names.contains(value) {
            issue(step, field, location(node), "unknown built-in activity '\(value)'; the built-ins are "
                  + BuiltinActivities.names.sorted().joined(separator: ", "))
            return nil
        }
        return value
    }

    /// `value` with control characters shown as `\u{…}`, for messages (``NameRule/printable(_:)``).
    static func printable(_ value: String) -> String {
        NameRule.printable(value)
    }

    func duration(_ node: Node, step: String?, field: String) -> Interval? {
        if case .scalar(let scalar) = node, let value = Interval(parsing: scalar.string), value.milliseconds > 0 {
            return value
        }
        let text = node.string ?? "?"
        issue(step, field, location(node), "bad duration '\(text)'; use e.g. 500ms, 1s, 5m, 24h, 1h30m")
        return nil
    }

    func number(_ node: Node, step: String?, field: String) -> Double? {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any, let value = node.float {
            return value
        }
        issue(step, field, location(node), "expected a number")
        return nil
    }

    func integer(_ node: Node, step: String?, field: String, minimum: Int) -> Int? {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any, let value = node.int,
            value >= minimum
        {
            return value
        }
        issue(step, field, location(node), "expected an integer ≥ \(minimum), got '\(node.string ?? "?")'")
        return nil
    }

    func template(_ node: Node, step: String?, field: String) -> Template? {
        let value = json(node)
        if let violation = value.limitViolation(field: field) {
            issue(step, field, location(node), violation)
            return nil
        }
        do {
            return try Template.compile(value)
        } catch {
            var target = node
            for key in error.path {
                switch target {
                case .mapping(let mapping): target = mapping[key] ?? target
                case .sequence(let sequence): target = Int(key).flatMap { sequence.indices.contains($0) ? sequence[$0] : nil } ?? target
                default: break
                }
            }
            let path = error.path.isEmpty ? field : field + "." + error.path.joined(separator: ".")
            issue(step, path, location(target, offset: error.error.offset), "expression error: \(error.error.message)")
            return nil
        }
    }

    func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal
                || scalar.style == .folded
            {
                return .string(scalar.string)
            }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .number(Double(value)) }
            if let value = node.float { return .number(value) }
            return .string(scalar.string)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? key.scalar?.string ?? ""] = json(value) }
            return .object(members)
        case .sequence(let sequence):
            return .array(sequence.map { json($0) })
        case .alias:
            return .null
        }
    }
}

extension Substring {
    func trimmed(of set: String) -> String {
        var view = self
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}
