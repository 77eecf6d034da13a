import BatonCodec
import BatonCore
import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(1))) struct SnapshotCodecTests {
    static let definition = try! DefinitionParser.parse("""
        name: snap
        on_failure: compensate
        steps:
          a: { activity: work, compensate: { activity: undo } }
          w: { depends_on: [a], wait_for_signal: { name: go, timeout: 1h } }
          b: { activity: work, depends_on: [w] }
        """)

    /// A state with every member set: folded from one event of every type.
    static var richState: WorkflowState {
        var state = WorkflowState(workflowID: "snap-1")
        for (index, kind) in everyEventKind.enumerated() where kind.typeName != "WorkflowCompleted" {
            state.apply(WorkflowEvent(id: Int64(index + 1), time: Instant(millisecondsSinceEpoch: Int64(index) * 10), kind: kind),
                        definition: definition)
        }
        state.timers["b/2/heartbeat"] = WorkflowState.ArmedTimer(
            step: "b", attempt: 2, purpose: .timeout(.heartbeat), fireAt: Instant(millisecondsSinceEpoch: 5))
        state.timers["w/0/signal_timeout"] = WorkflowState.ArmedTimer(
            step: "w", attempt: 0, purpose: .signalTimeout, fireAt: Instant(millisecondsSinceEpoch: 6))
        state.pendingSignals.append(WorkflowState.PendingSignal(name: "later", payload: ["x": [1, nil]]))
        state.saga = SagaState(remaining: ["b", "a"], cancelled: true)
        state.saga?.current = "a"
        state.saga?.inFlight = true
        state.saga?.input = ["x": 1]
        state.saga?.compensated = ["c"]
        state.saga?.failed = ["d"]
        state.cancelReason = "why"
        state.compensationFailedStep = "a"
        state.failedStep = "b"
        state.closedAt = Instant(millisecondsSinceEpoch: 99)
        return state
    }

    @Test func aFullStateRoundTrips() throws {
        let state = Self.richState
        #expect(!state.steps.isEmpty && !state.timers.isEmpty && !state.signalRequestIDs.isEmpty)
        let bytes = try SnapshotCodec.encode(state)
        #expect(bytes.first == SnapshotCodec.currentVersion)
        #expect(try SnapshotCodec.decode(bytes) == state)
    }

    @Test func aNewStateRoundTrips() throws {
        let state = WorkflowState(workflowID: "empty")
        #expect(try SnapshotCodec.decode(try SnapshotCodec.encode(state)) == state)
    }

    @Test func damagedSnapshotsAreStorageErrors() {
        for bytes: [UInt8] in [[], [7], [SnapshotCodec.currentVersion, 0x0a, 0x05, 0x61]] {
            #expect(throws: BatonError.self) { try SnapshotCodec.decode(bytes) }
        }
    }
}
