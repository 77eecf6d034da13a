import Yams

/// Cross-step checks: dependencies exist, form no cycle, and expressions only read ancestors.
struct DefinitionValidator {
    let reader: DefinitionReader
    let definition: WorkflowDefinition
    let nodes: [String: StepNodes]
    let root: [String: Node]
    let reach = Reachability()

    /// Descendant sets, computed once per referenced step.
    final class Reachability {
        var descendants: [String: Set<String>] = [:]
    }

    /// Every step that depends on `name`, directly or not.
    private func descendants(of name: String) -> Set<String> {
        if let known = reach.descendants[name] { return known }
        var seen: Set<String> = []
        var stack = definition.dependents[name] ?? []
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: definition.dependents[next] ?? []) }
        }
        reach.descendants[name] = seen
        return seen
    }

    func validate() {
        checkDependencies()
        let cyclic = checkCycles()
        guard !cyclic else { return }
        for step in definition.steps { checkReferences(of: step) }
        if let output = definition.output, let node = root["output"] {
            checkWorkflowLevel(output.references, field: "output", node: node)
        }
        for (name, query) in definition.queries.sorted(by: { $0.key < $1.key }) {
            checkWorkflowLevel(query.references, field: "queries.\(name)", node: root["queries"])
        }
    }

    private func checkDependencies() {
        for step in definition.steps {
            for (index, dependency) in step.dependsOn.enumerated() where definition.step(dependency) == nil {
                let node = nodes[step.name].flatMap { $0.dependsOn.indices.contains(index) ? $0.dependsOn[index] : nil }
                reader.issue(step.name, "depends_on", node.flatMap { reader.location($0) }, "unknown step '\(dependency)' in depends_on")
            }
        }
    }

    /// Reports each dependency cycle once, printing it as `a -> b -> a`. Returns whether any was found.
    private func checkCycles() -> Bool {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var stack: [String] = []
        var found = false

        func visit(_ name: String) {
            marks[name] = .visiting
            stack.append(name)
            let step = definition.step(name)!
            for (index, dependency) in step.dependsOn.enumerated() where definition.step(dependency) != nil {
                switch marks[dependency] {
                case .visiting:
                    let start = stack.lastIndex(of: dependency)!
                    let cycle = Array(stack[start...]) + [dependency]
                    let node = nodes[name].flatMap { $0.dependsOn.indices.contains(index) ? $0.dependsOn[index] : nil }
                    reader.issue(
                        name, "depends_on", node.flatMap { reader.location($0) },
                        "dependency cycle: " + cycle.reversed().joined(separator: " -> "))
                    found = true
                case .done:
                    continue
                case nil:
                    visit(dependency)
                }
            }
            stack.removeLast()
            marks[name] = .done
        }

        for step in definition.steps where marks[step.name] == nil { visit(step.name) }
        return found
    }

    private func checkReferences(of step: StepDefinition) {
        // Cost linear in the definition for the common cases (a direct dependency, or many references
        // to one step): a 10,000-step chain registers in well under a second.
        let name = step.name
        let isAncestor: (String) -> Bool = { [self] target in
            if step.dependsOn.contains(target) { return true }
            return descendants(of: target).contains(name)
        }
        let stepNodes = nodes[step.name]
        check(step.input.references, step: step.name, field: "input", node: stepNodes?.input, allowed: isAncestor,
              allowSelf: false)
        if let when = step.when {
            check(when.references, step: step.name, field: "when", node: stepNodes?.when, allowed: isAncestor,
                  allowSelf: false)
        }
        if let compensate = step.compensate {
            check(
                compensate.input.references, step: step.name, field: "compensate.input", node: stepNodes?.compensateInput,
                allowed: { $0 == name || isAncestor($0) }, allowSelf: true)
        }
    }

    private func check(
        _ references: [Reference], step: String, field: String, node: Node?, allowed: (String) -> Bool, allowSelf: Bool
    ) {
        let location = node.flatMap { reader.location($0) }
        for reference in references {
            if reference.isSelf, !allowSelf {
                reader.issue(step, field, location, "'\(reference)' is only available inside compensate")
                continue
            }
            guard let target = reference.step else { continue }
            guard let targetStep = definition.step(target) else {
                reader.issue(step, field, location, "'\(reference)' references unknown step '\(target)'")
                continue
            }
            if !allowed(target) {
                reader.issue(
                    step, field, location,
                    "'\(reference)' references step '\(target)', which is not an ancestor of '\(step)'; add it to depends_on")
                continue
            }
            checkSignal(reference, target: targetStep, step: step, field: field, location: location)
        }
    }

    private func checkWorkflowLevel(_ references: [Reference], field: String, node: Node?) {
        let location = node.flatMap { reader.location($0) }
        for reference in references {
            if reference.isSelf {
                reader.issue(nil, field, location, "'\(reference)' is only available inside compensate")
                continue
            }
            guard let target = reference.step else { continue }
            guard let targetStep = definition.step(target) else {
                reader.issue(nil, field, location, "'\(reference)' references unknown step '\(target)'")
                continue
            }
            checkSignal(reference, target: targetStep, step: nil, field: field, location: location)
        }
    }

    private func checkSignal(_ reference: Reference, target: StepDefinition, step: String?, field: String, location: SourceLocation?) {
        if case .stepSignal = reference.root, case .waitForSignal = target.kind {
            return
        }
        if case .stepSignal = reference.root {
            reader.issue(step, field, location, "'\(reference)': step '\(target.name)' does not wait for a signal")
        }
    }
}
