/// A parsed, validated workflow definition (DESIGN §2).
///
/// ```swift
/// let definition = try DefinitionParser.parse("""
///     name: demo
///     steps:
///       a: { activity: builtin.echo, input: { x: "${input.x}" } }
///       b: { activity: builtin.echo, depends_on: [a] }
///     output: { result: "${steps.a.output.x}" }
///     """)
/// definition.steps.map(\.name)   // ["a", "b"]
/// ```
public struct WorkflowDefinition: Hashable, Sendable {
    /// What happens when a step fails for good.
    public enum FailurePolicy: String, Hashable, Sendable, Codable {
        /// Fail without compensation.
        case fail
        /// Run compensations of completed steps in reverse completion order.
        case compensate
    }

    /// The definition's name.
    public var name: String
    /// The version declared in the source, if any (the registry assigns one otherwise).
    public var declaredVersion: Int?
    /// Free text.
    public var description: String?
    /// Steps in source order.
    public var steps: [StepDefinition]
    /// The workflow output, evaluated on completion.
    public var output: Template?
    /// Behaviour on failure.
    public var onFailure: FailurePolicy
    /// Named queries declared as expressions.
    public var queries: [String: Template]
    /// Circuit-breaker policies by key.
    public var circuitBreakers: [String: CircuitBreakerPolicy]
    /// Canonical JSON of the source document without `version`: equal content, equal text.
    public var canonicalContent: String
    /// The schema every run's input must match when the run starts (`input_schema`); `nil` accepts any input.
    public var inputSchema: InputSchema?

    /// Index of each step in ``steps`` by name.
    public let stepIndex: [String: Int]
    /// Names of the steps that depend directly on each step.
    public let dependents: [String: [String]]

    /// Creates a definition from already-validated parts.
    public init(
        name: String, declaredVersion: Int? = nil, description: String? = nil, steps: [StepDefinition],
        output: Template? = nil, onFailure: FailurePolicy = .fail, queries: [String: Template] = [:],
        circuitBreakers: [String: CircuitBreakerPolicy] = [:], canonicalContent: String = "",
        inputSchema: InputSchema? = nil
    ) {
        self.name = name
        self.declaredVersion = declaredVersion
        self.description = description
        self.steps = steps
        self.output = output
        self.onFailure = onFailure
        self.queries = queries
        self.circuitBreakers = circuitBreakers
        self.canonicalContent = canonicalContent
        self.inputSchema = inputSchema
        var index: [String: Int] = [:]
        var dependents: [String: [String]] = [:]
        for (position, step) in steps.enumerated() {
            index[step.name] = position
            for dependency in step.dependsOn { dependents[dependency, default: []].append(step.name) }
        }
        self.stepIndex = index
        self.dependents = dependents
    }

    /// The step named `name`.
    public func step(_ name: String) -> StepDefinition? {
        stepIndex[name].map { steps[$0] }
    }

    /// The kind of the step named `name` (without copying the whole step).
    public func kind(ofStep name: String) -> StepDefinition.Kind? {
        stepIndex[name].map { steps[$0].kind }
    }

    /// The activity type of the step named `name`, when it is an activity step.
    public func activity(ofStep name: String) -> String? {
        guard let index = stepIndex[name], case .activity(let activity) = steps[index].kind else { return nil }
        return activity
    }

    /// All transitive dependencies of `name`.
    public func ancestors(of name: String) -> Set<String> {
        var seen: Set<String> = []
        var stack = step(name)?.dependsOn ?? []
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: step(next)?.dependsOn ?? []) }
        }
        return seen
    }
}
