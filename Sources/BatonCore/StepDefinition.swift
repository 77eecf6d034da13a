/// One step of a workflow definition, with defaults already applied.
public struct StepDefinition: Hashable, Sendable {
    /// What a step does.
    public enum Kind: Hashable, Sendable {
        /// Runs the named activity (in-process or on a task queue).
        case activity(String)
        /// Waits for a named signal.
        case waitForSignal(SignalWait)
        /// Waits for a durable timer.
        case sleep(Interval)
    }

    /// The step's unique name.
    public var name: String
    /// What the step does.
    public var kind: Kind
    /// Steps that must be done (completed or skipped) first.
    public var dependsOn: [String]
    /// The activity input, evaluated when the step is scheduled.
    public var input: Template
    /// Condition evaluated when dependencies are done; false skips the step.
    public var when: Expression?
    /// Progress phase name.
    public var phase: String?
    /// Weight in progress percentage (default 1).
    public var weight: Double
    /// Shared circuit-breaker key.
    public var circuitBreaker: String?
    /// Value used as output when the breaker is open.
    public var fallback: JSONValue?
    /// Compensation run by the saga when the workflow fails after this step completed.
    public var compensate: Compensation?
    /// Retry policy.
    public var retry: RetryPolicy
    /// Activity timeouts.
    public var timeouts: StepTimeouts
    /// Task queue of external workers, when not in-process.
    public var taskQueue: String?
    /// Where the step is declared.
    public var location: SourceLocation?

    /// Creates a step; optional fields default to none.
    public init(
        name: String, kind: Kind, dependsOn: [String] = [], input: Template = .null, when: Expression? = nil,
        phase: String? = nil, weight: Double = 1, circuitBreaker: String? = nil, fallback: JSONValue? = nil,
        compensate: Compensation? = nil, retry: RetryPolicy = RetryPolicy(), timeouts: StepTimeouts = StepTimeouts(),
        taskQueue: String? = nil, location: SourceLocation? = nil
    ) {
        self.name = name
        self.kind = kind
        self.dependsOn = dependsOn
        self.input = input
        self.when = when
        self.phase = phase
        self.weight = weight
        self.circuitBreaker = circuitBreaker
        self.fallback = fallback
        self.compensate = compensate
        self.retry = retry
        self.timeouts = timeouts
        self.taskQueue = taskQueue
        self.location = location
    }

    /// The activity name when this is an activity step.
    public var activity: String? {
        if case .activity(let name) = kind { return name }
        return nil
    }
}
