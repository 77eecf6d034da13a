import BatonCodec
import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Testing

/// The fixture runs record every event type and read back exactly; with BATON_WRITE_STORE_FIXTURE
/// set, the database is written to that path instead of a temporary one (scripts/gen-store-fixture).
@Suite(.timeLimit(.minutes(5))) struct StoreFixtureTests {
    static let everyEventType: Set<String> = [
        "WorkflowStarted", "StepScheduled", "StepStarted", "StepHeartbeat", "StepCompleted", "StepFailed",
        "StepTimedOut", "StepSkipped", "TimerStarted", "TimerFired", "SignalReceived", "SignalWaitTimedOut",
        "CancelRequested", "SagaStarted", "CompensationStarted", "CompensationScheduled", "CompensationAttemptFailed",
        "CompensationCompleted", "CompensationFailed", "WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled",
        "WorkflowTerminated", "WorkflowCompensated", "WorkflowCompensationFailed", "CircuitRejected", "CircuitOpened",
        "CircuitHalfOpened", "CircuitClosed",
    ]

    @Test func theFixtureRunsRecordEveryEventTypeAndReadBackExactly() async throws {
        let temp = try TempDatabase()
        defer { temp.cleanup() }
        let path = ProcessInfo.processInfo.environment["BATON_WRITE_STORE_FIXTURE"] ?? temp.path
        let store = try SQLiteWorkflowStore(path: path)
        let states = try await StoreFixture.write(to: store)
        var types: Set<String> = []
        for (id, state) in states {
            let history = try await store.history(id, afterEventID: 0, limit: .max)
            types.formUnion(history.map(\.kind.typeName))
            #expect(try await store.loadWorkflow(id)?.state == state, "\(id)")
            #expect(history.count == Int(state.lastEventID), "\(id)")
        }
        #expect(types == Self.everyEventType, "missing: \(Self.everyEventType.subtracting(types).sorted())")
        // The replay property over every event type, circuit breakers included: fold(history) == the state.
        for (id, state) in states {
            let history = try await store.history(id, afterEventID: 0, limit: .max)
            let source = try #require(StoreFixture.definitions.first { $0.contains("name: \(state.definitionName)\n") })
            let definition = try DefinitionParser.parse(source)
            var folded = WorkflowState(workflowID: id)
            for event in history { folded.apply(event, definition: definition) }
            #expect(folded == state, "\(id)")
            #expect(try SnapshotCodec.decode(try SnapshotCodec.encode(state)) == state, "\(id)")
        }
        #expect(states["open"]?.status == .running)
        #expect(states["echo"]?.status == .completed)
        #expect(try await StoreChecker(store: store).run().isHealthy)
        store.close()
    }
}
