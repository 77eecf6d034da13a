import BatonCore
import BatonEngine

/// Drives a ``WorkflowMachine`` in virtual time with no I/O: attempts finish after a scripted
/// duration with a scripted outcome, timers fire at their deadline.
struct Simulation {
    enum Outcome {
        case complete(JSONValue)
        case fail(ActivityFailure)
        case hang
    }

    struct Pending {
        var time: Instant
        var sequence: Int
        var input: WorkflowInput
    }

    var machine: WorkflowMachine
    var history: [WorkflowEvent] = []
    var dispatched: [ActivityTask] = []
    var now: Instant
    private var queue: [Pending] = []
    private var sequence = 0
    let script: (ActivityTask) -> (Interval, Outcome)

    init(
        _ source: String, input: JSONValue = .null, start: Instant = Instant(millisecondsSinceEpoch: 1_000_000),
        startsOnDispatch: @escaping @Sendable (String) -> Bool = { _ in true },
        script: @escaping (ActivityTask) -> (Interval, Outcome) = { task in (.seconds(1), .complete(task.input)) }
    ) throws {
        let definition = try DefinitionParser.parse(source)
        let (machine, decision) = WorkflowMachine.start(
            workflowID: "wf", definition: definition, version: 1, input: input, now: start, startsOnDispatch: startsOnDispatch)
        self.machine = machine
        self.now = start
        self.script = script
        absorb(decision)
    }

    /// Queues an input at `time`.
    mutating func inject(_ input: WorkflowInput, at time: Instant) {
        sequence += 1
        queue.append(Pending(time: time, sequence: sequence, input: input))
    }

    /// Processes queued inputs in time order until the workflow closes or nothing is left.
    mutating func run(limit: Int = 10_000) {
        var steps = 0
        while !machine.state.status.isClosed, steps < limit, let next = popNext() {
            steps += 1
            now = max(now, next.time)
            absorb(machine.decide(next.input, now: now))
        }
    }

    /// Processes queued inputs up to and including `time`.
    mutating func run(until time: Instant) {
        while let index = nextIndex(), queue[index].time <= time, !machine.state.status.isClosed {
            let next = queue.remove(at: index)
            now = max(now, next.time)
            absorb(machine.decide(next.input, now: now))
        }
        now = max(now, time)
    }

    /// Decides on `input` now.
    mutating func send(_ input: WorkflowInput) {
        absorb(machine.decide(input, now: now))
    }

    private func nextIndex() -> Int? {
        queue.indices.min { (queue[$0].time, queue[$0].sequence) < (queue[$1].time, queue[$1].sequence) }
    }

    private mutating func popNext() -> Pending? {
        guard let index = nextIndex() else { return nil }
        return queue.remove(at: index)
    }

    private mutating func absorb(_ decision: Decision) {
        for (offset, event) in decision.events.enumerated() {
            precondition(event.id == Int64(history.count + 1), "event ids must be contiguous (offset \(offset))")
            history.append(event)
        }
        for command in decision.commands {
            switch command {
            case .dispatch(let task):
                dispatched.append(task)
                let (duration, outcome) = script(task)
                switch outcome {
                case .complete(let output):
                    inject(.activityCompleted(step: task.step, attempt: task.attempt, output: output), at: now + duration)
                case .fail(let failure):
                    inject(.activityFailed(step: task.step, attempt: task.attempt, failure: failure), at: now + duration)
                case .hang:
                    break
                }
            case .startTimer(let timer):
                queue.removeAll { if case .timerFired(let id) = $0.input { id == timer.timer } else { false } }
                inject(.timerFired(timer: timer.timer), at: timer.fireAt)
            case .cancelTimer(_, let id):
                queue.removeAll { if case .timerFired(let other) = $0.input { other == id } else { false } }
            case .cancelActivity(_, let step, let attempt):
                queue.removeAll {
                    switch $0.input {
                    case .activityCompleted(let s, let a, _), .activityFailed(let s, let a, _): s == step && a == attempt
                    default: false
                    }
                }
            case .workflowClosed:
                break
            }
        }
    }

    /// Times at which events of type `typeName` for `step` happened.
    func times(_ typeName: String, step: String) -> [Instant] {
        history.filter { $0.kind.typeName == typeName && $0.kind.step == step }.map(\.time)
    }

    /// Replays the history into a fresh state.
    func fold() -> WorkflowState {
        var state = WorkflowState(workflowID: machine.state.workflowID)
        for event in history { state.apply(event, definition: machine.definition) }
        return state
    }
}
