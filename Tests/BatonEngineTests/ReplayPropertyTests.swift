import BatonCodec
import BatonCore
import BatonEngine
import Testing

/// A small deterministic generator (SplitMix64) so every failure can be reproduced from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
}

/// Random well-formed definitions: a DAG over up to 8 steps mixing activities, sleeps and signal waits,
/// with random retry policies, timeouts, compensations, failure policies and `when` conditions on ancestors.
func randomDefinition(_ rng: inout SeededRandom) -> String {
    let count = Int.random(in: 1...8, using: &rng)
    var yaml = "name: random\nsteps:\n"
    for index in 0..<count {
        let name = "s\(index)"
        var fields: [String] = []
        let earlier = (0..<index).filter { _ in rng.chance(0.4) }.map { "s\($0)" }
        if !earlier.isEmpty { fields.append("depends_on: [\(earlier.joined(separator: ", "))]") }
        let roll = Double.random(in: 0..<1, using: &rng)
        if roll < 0.7 {
            fields.append("activity: work")
            fields.append("input: { n: \(index), from: \"${input.seed}\" }")
            fields.append("retry: { initial_interval: \(Int.random(in: 1...5, using: &rng))s, maximum_attempts: \(Int.random(in: 0...4, using: &rng)) }")
            if rng.chance(0.3) { fields.append("start_to_close_timeout: \(Int.random(in: 5...30, using: &rng))s") }
            if rng.chance(0.2) { fields.append("heartbeat_timeout: 7s") }
            if rng.chance(0.15) { fields.append("schedule_to_close_timeout: 2m") }
            if rng.chance(0.5) {
                fields.append(
                    "compensate: { activity: undo, input: { of: \"${self.output.ok}\", n: \"${self.input.n}\" }, retry: { initial_interval: 1s, maximum_attempts: 2 } }")
            }
        } else if roll < 0.85 {
            fields.append("sleep: \(Int.random(in: 1...60, using: &rng))s")
        } else {
            let policy = ["continue", "fail", "compensate"].randomElement(using: &rng)!
            fields.append("wait_for_signal: { name: sig\(index % 2), timeout: 90s, on_timeout: \(policy) }")
        }
        if let dependency = earlier.randomElement(using: &rng), rng.chance(0.3) {
            fields.append("when: \"${steps.\(dependency).output.ok} != false\"")
        }
        yaml += "  \(name): { \(fields.joined(separator: ", ")) }\n"
    }
    yaml += "output: { all: \"${steps.s0.output}\" }\n"
    yaml += "on_failure: \(rng.chance(0.5) ? "compensate" : "fail")\n"
    return yaml
}

@Suite(.timeLimit(.minutes(2))) struct ReplayPropertyTests {
    @Test(arguments: 0..<200)
    func foldOfHistoryEqualsTheSnapshot(seed: Int) throws {
        var rng = SeededRandom(state: UInt64(seed) &* 7919)
        let source = randomDefinition(&rng)
        let definition = try DefinitionParser.parse(source)
        var now = Instant(millisecondsSinceEpoch: 5_000_000)
        var (machine, first) = WorkflowMachine.start(
            workflowID: "p\(seed)", definition: definition, version: 1, input: ["seed": .number(Double(seed))], now: now,
            startsOnDispatch: { _ in true })
        var history = first.events

        for _ in 0..<60 where !machine.state.status.isClosed {
            now = now + .milliseconds(Int64.random(in: 0...3000, using: &rng))
            let input = randomInput(machine.state, definition: definition, now: &now, rng: &rng)
            let decision = machine.decide(input, now: now)
            history += decision.events
        }

        #expect(history.map(\.id) == Array(1...Int64(history.count)), "source:\n\(source)")
        var folded = WorkflowState(workflowID: "p\(seed)")
        for event in history { folded.apply(event, definition: definition) }
        #expect(folded == machine.state, "source:\n\(source)")

        var replay = WorkflowMachine(definition: definition, state: WorkflowState(workflowID: "p\(seed)"))
        for event in history { replay.apply(event) }
        #expect(replay.state == folded)

        let decoded = try history.map { WorkflowEvent(id: $0.id, time: $0.time, kind: try EventCodec.decode(try EventCodec.encode($0.kind))) }
        #expect(decoded == history)
        #expect(try SnapshotCodec.decode(try SnapshotCodec.encode(machine.state)) == machine.state)
    }

    private func randomInput(_ state: WorkflowState, definition: WorkflowDefinition, now: inout Instant, rng: inout SeededRandom) -> WorkflowInput {
        let inFlight = state.inFlightAttempts(definition: definition)
        let roll = Double.random(in: 0..<1, using: &rng)
        if let attempt = inFlight.randomElement(using: &rng), roll < 0.45 {
            return .activityCompleted(step: attempt.step, attempt: attempt.attempt, output: ["ok": .bool(rng.chance(0.7))])
        }
        if let attempt = inFlight.randomElement(using: &rng), roll < 0.65 {
            let failure = ActivityFailure(type: ["Boom", "Other"].randomElement(using: &rng)!, message: "x", nonRetryable: rng.chance(0.1))
            return .activityFailed(step: attempt.step, attempt: attempt.attempt, failure: failure)
        }
        if let attempt = inFlight.randomElement(using: &rng), roll < 0.7 {
            return .activityHeartbeat(step: attempt.step, attempt: attempt.attempt, details: ["at": .number(Double(now.millisecondsSinceEpoch))])
        }
        if let (id, timer) = state.timers.sorted(by: { $0.key < $1.key }).randomElement(using: &rng), roll < 0.88 {
            now = max(now, timer.fireAt)
            return .timerFired(timer: id)
        }
        if roll < 0.96 {
            let requestID = rng.chance(0.5) ? "r\(Int.random(in: 0..<3, using: &rng))" : nil
            return .signal(name: "sig\(Int.random(in: 0..<3, using: &rng))", payload: ["ok": .bool(rng.chance(0.5))], requestID: requestID)
        }
        if roll < 0.98 {
            return .activityCompleted(step: "s0", attempt: 99, output: nil)
        }
        return rng.chance(0.5) ? .cancel(reason: "random") : .terminate(reason: "random")
    }
}
