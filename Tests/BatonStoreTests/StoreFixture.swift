import BatonCore
import BatonEngine
import BatonStore

/// Writes a small set of runs that together record every event type, through the engine's machine
/// and the SQLite store exactly as the server commits them (snapshots left out of most changes, so
/// reads fold history tails). `scripts/gen-store-fixture` runs it at the format-1 release to make
/// the committed fixture the format migration is tested on.
enum StoreFixture {
    /// The definitions, by name.
    static let definitions: [String] = [
        """
        name: fx_echo
        steps:
          a: { activity: ok, input: { n: "${input.n}" } }
          b: { activity: ok, depends_on: [a], input: { n: "${steps.a.output.n}" } }
        output: { n: "${steps.b.output.n}" }
        """,
        """
        name: fx_retry
        steps:
          a: { activity: flaky, retry: { initial_interval: 1s, maximum_attempts: 3 }, heartbeat_timeout: 1m }
          b: { activity: ok, depends_on: [a], when: "${input.n} > 100" }
          c: { activity: ok, depends_on: [b] }
        """,
        """
        name: fx_signal
        steps:
          go: { wait_for_signal: { name: go, timeout: 1h } }
          late: { depends_on: [go], wait_for_signal: { name: never, timeout: 1m, on_timeout: continue } }
          pause: { depends_on: [late], sleep: 5s }
        output: { go: "${steps.go.signal}" }
        """,
        """
        name: fx_saga
        on_failure: compensate
        steps:
          a: { activity: ok, compensate: { activity: ok, input: { undo: true } } }
          b: { activity: bad, depends_on: [a], retry: { maximum_attempts: 1 } }
        """,
        """
        name: fx_saga_fail
        on_failure: compensate
        steps:
          a: { activity: ok, compensate: { activity: bad, retry: { initial_interval: 1s, maximum_attempts: 2 } } }
          b: { activity: bad, depends_on: [a], retry: { maximum_attempts: 1 } }
        """,
        """
        name: fx_timeout
        steps:
          a: { activity: hang, start_to_close_timeout: 5s, retry: { maximum_attempts: 1 } }
        """,
        """
        name: fx_wait
        steps:
          w: { wait_for_signal: { name: go, timeout: 1h } }
        """,
        """
        name: fx_breaker
        circuit_breakers:
          svc: { failure_threshold: 1, reset_timeout: 10s }
        steps:
          call: { activity: svc.call, circuit_breaker: svc, retry: { maximum_attempts: 1 } }
        """,
    ]

    /// One run: its definition, input, and the external inputs (signals, cancels) fed at given offsets.
    struct Run {
        var id: String
        var definition: String
        var input: JSONValue = .null
        var external: [(after: Int, input: WorkflowInput)] = []
        /// Fire no timers: the run stays open, waiting.
        var leaveOpen = false
    }

    static let runs: [Run] = [
        Run(id: "echo", definition: "fx_echo", input: ["n": 7]),
        Run(id: "retry", definition: "fx_retry", input: ["n": 1]),
        Run(id: "signal", definition: "fx_signal",
            external: [(0, .signal(name: "go", payload: ["by": "fixture"], requestID: "req-1"))]),
        Run(id: "saga", definition: "fx_saga"),
        Run(id: "saga-fail", definition: "fx_saga_fail"),
        Run(id: "timeout", definition: "fx_timeout"),
        Run(id: "cancelled", definition: "fx_wait", external: [(0, .cancel(reason: "no longer needed"))]),
        Run(id: "terminated", definition: "fx_wait", external: [(0, .terminate(reason: "operator"))]),
        Run(id: "breaker-1", definition: "fx_breaker"),
        Run(id: "breaker-2", definition: "fx_breaker"),
        Run(id: "breaker-3", definition: "fx_breaker"),
        Run(id: "open", definition: "fx_signal",
            external: [(0, .signal(name: "go", payload: ["open": true], requestID: nil))], leaveOpen: true),
    ]

    /// Registers the definitions and commits every run to `store`; returns the final states by id.
    @discardableResult
    static func write(to store: SQLiteWorkflowStore) async throws -> [String: WorkflowState] {
        let registry = DefinitionRegistry(store: store)
        var parsed: [String: WorkflowDefinition] = [:]
        for source in definitions {
            let ref = try await registry.register(source: source, now: .epoch)
            parsed[ref.name] = try DefinitionParser.parse(source)
        }
        let breakers = CircuitBreakerRegistry()
        var clock = Instant(millisecondsSinceEpoch: 1_700_000_000_000)
        var states: [String: WorkflowState] = [:]
        for run in runs {
            let definition = parsed[run.definition]!
            if run.id == "breaker-3" { clock = clock + .seconds(11) }
            var (machine, first) = WorkflowMachine.start(
                workflowID: run.id, definition: definition, version: 1, input: run.input, now: clock, breakers: breakers)
            try await store.commit(WorkflowChange(state: machine.state, decision: first, isNew: true))
            var driver = Driver(now: clock)
            driver.absorb(first)
            for (offset, input) in run.external { driver.queue.append((clock + .milliseconds(Int64(offset) + 500), input)) }
            var index = 0
            while machine.state.status == .running, let (time, input) = driver.popNext() {
                if run.leaveOpen, case .timerFired = input { continue }
                clock = max(clock, time)
                let decision = machine.decide(input, now: clock)
                index += 1
                guard !decision.events.isEmpty else { continue }
                try await store.commit(WorkflowChange(
                    state: machine.state, decision: decision, isNew: false, includesSnapshot: index % 4 == 0))
                driver.absorb(decision)
            }
            states[run.id] = machine.state
            clock = clock + .seconds(1)
        }
        return states
    }

    /// Answers dispatches by activity name and fires timers in time order.
    struct Driver {
        var now: Instant
        var queue: [(Instant, WorkflowInput)] = []

        mutating func popNext() -> (Instant, WorkflowInput)? {
            guard let index = queue.indices.min(by: { queue[$0].0 < queue[$1].0 }) else { return nil }
            return queue.remove(at: index)
        }

        mutating func absorb(_ decision: Decision) {
            let at = decision.events.last?.time ?? now
            for command in decision.commands {
                switch command {
                case .dispatch(let task):
                    let (step, attempt) = (task.step, task.attempt)
                    switch task.activity {
                    case "ok":
                        queue.append((at + .milliseconds(10), .activityCompleted(step: step, attempt: attempt, output: task.input)))
                    case "flaky" where attempt == 1:
                        queue.append((at + .milliseconds(5), .activityHeartbeat(step: step, attempt: attempt, details: ["done": 1])))
                        queue.append((at + .milliseconds(10), .activityFailed(
                            step: step, attempt: attempt, failure: ActivityFailure(type: "Flaky", message: "first try"))))
                    case "flaky":
                        queue.append((at + .milliseconds(10), .activityCompleted(step: step, attempt: attempt, output: ["ok": true])))
                    case "svc.call" where task.workflowID == "breaker-1":
                        queue.append((at + .milliseconds(10), .activityFailed(
                            step: step, attempt: attempt, failure: ActivityFailure(type: "Down", message: "svc is down"))))
                    case "svc.call":
                        queue.append((at + .milliseconds(10), .activityCompleted(step: step, attempt: attempt, output: ["up": true])))
                    case "bad":
                        queue.append((at + .milliseconds(10), .activityFailed(
                            step: step, attempt: attempt,
                            failure: ActivityFailure(type: "Bad", message: "always fails", details: ["code": 42]))))
                    default:
                        break  // "hang": never answers; its timeout fires
                    }
                case .startTimer(let timer):
                    queue.removeAll { if case .timerFired(let id) = $0.1 { id == timer.timer } else { false } }
                    queue.append((timer.fireAt, .timerFired(timer: timer.timer)))
                case .cancelTimer(_, let id):
                    queue.removeAll { if case .timerFired(let other) = $0.1 { other == id } else { false } }
                case .cancelActivity, .workflowClosed:
                    break
                }
            }
        }
    }
}
