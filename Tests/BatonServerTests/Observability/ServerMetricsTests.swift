import BatonCore
import BatonEngine
import BatonRPC
import Testing

@testable import BatonServer

/// What the committed events and finished calls become in the exposition text.
@Suite(.timeLimit(.minutes(1))) struct ServerMetricsTests {
    static let source = """
        name: metered
        steps:
          pay: { activity: card.charge, retry: { initial_interval: 1s, maximum_attempts: 3 } }
          wait: { depends_on: [pay], wait_for_signal: { name: go } }
        """

    @Test func eventsBecomeCountersAndHistogramsWithBoundedLabels() async throws {
        let registry = DefinitionRegistry(store: InMemoryWorkflowStore())
        let ref = try await registry.register(source: Self.source, now: .epoch)
        let metrics = ServerMetrics(definitions: registry)
        let failure = ActivityFailure(type: "Declined", message: "no")
        let kinds: [EventKind] = [
            .workflowStarted(definition: "metered", version: 1, input: .null, runID: "r"),
            .stepScheduled(step: "pay", attempt: 1, input: .null), .stepStarted(step: "pay", attempt: 1),
            .stepFailed(step: "pay", attempt: 1, failure: failure, retryAt: Instant(millisecondsSinceEpoch: 2_000)),
            .circuitRejected(step: "pay", attempt: 2, key: "card", fallback: false),
            .stepFailed(step: "pay", attempt: 2, failure: failure, retryAt: Instant(millisecondsSinceEpoch: 4_000)),
            .stepScheduled(step: "pay", attempt: 3, input: .null), .stepStarted(step: "pay", attempt: 3),
            .stepCompleted(step: "pay", attempt: 3, output: .null),
            .signalReceived(name: "go", payload: .null, requestID: nil),
            .signalReceived(name: "wf-secret-42", payload: .null, requestID: nil),
            .workflowCompleted(output: .null),
        ]
        let events = kinds.enumerated().map { index, kind in
            WorkflowEvent(id: Int64(index + 1), time: Instant(millisecondsSinceEpoch: Int64(index) * 250), kind: kind)
        }
        metrics.record(CommittedEvents(workflowID: "wf-secret-42", runID: "r", definition: ref,
                                       startedAt: .epoch, events: events))
        metrics.record(FinishedCall(service: "baton.v1.WorkflowService", method: "StartWorkflow", code: .notFound,
                                    message: "", peer: "x", duration: .milliseconds(3)))
        metrics.record(FinishedCall(service: "", method: "", code: .unimplemented, message: "", peer: "x",
                                    duration: .milliseconds(1)))
        let text = metrics.registry.emitToString()
        for line in [
            #"baton_workflow_executions_total{workflow_type="metered",status="completed"} 1"#,
            #"baton_workflow_duration_seconds_count{workflow_type="metered",status="completed"} 1"#,
            #"baton_activity_attempts_total{activity="card.charge",outcome="failed"} 1"#,
            #"baton_activity_attempts_total{activity="card.charge",outcome="rejected"} 1"#,
            #"baton_activity_attempts_total{activity="card.charge",outcome="completed"} 1"#,
            #"baton_activity_retries_total{activity="card.charge"} 2"#,
            #"baton_activity_duration_seconds_count{activity="card.charge"} 2"#,
            #"baton_signals_total{workflow_type="metered",signal="go"} 1"#,
            #"baton_signals_total{workflow_type="metered",signal="other"} 1"#,
            #"grpc_server_handled_total{grpc_service="baton.v1.WorkflowService",grpc_method="StartWorkflow",grpc_code="NotFound"} 1"#,
            #"grpc_server_handled_total{grpc_service="unknown",grpc_method="unknown",grpc_code="Unimplemented"} 1"#,
        ] {
            #expect(text.contains(line), "missing \(line) in:\n\(text)")
        }
        #expect(!text.contains("wf-secret-42"), "a workflow id or an undeclared signal name became a label value")
        #expect(text.contains("# HELP baton_workflow_executions_total "))
    }
}
