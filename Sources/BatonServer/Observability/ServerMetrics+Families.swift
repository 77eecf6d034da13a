import Prometheus

extension ServerMetrics {
    /// A metric family: its name, unit suffix and help text.
    struct Family: Sendable {
        let name: String
        let unit: String
        let help: String

        /// swift-prometheus's descriptor of the family.
        var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: unit, helpText: help) }
        /// The exposed name (`NAME_UNIT`).
        var fullName: String { unit.isEmpty ? name : "\(name)_\(unit)" }
    }

    private static func name(_ name: String, _ unit: String = "", _ help: String) -> Family {
        Family(name: name, unit: unit, help: help)
    }

    static let workflowExecutions = name("baton_workflow_executions", "total",
                                         "Workflow runs closed, by definition and final status.")
    static let workflowDuration = name("baton_workflow_duration", "seconds",
                                       "Time from a run's start to its close, by definition and final status.")
    static let workflowsOpen = name("baton_workflows_open", "", "Runs not closed yet, by definition.")
    static let activityAttempts = name("baton_activity_attempts", "total",
                                       "Finished activity attempts by activity type and outcome "
                                       + "(completed, failed, timed_out, rejected by an open circuit breaker).")
    static let activityRetries = name("baton_activity_retries", "total",
                                      "Failed or timed-out activity attempts that will be retried.")
    static let activityDuration = name("baton_activity_duration", "seconds",
                                       "Time from an activity attempt's start to its result.")
    static let breakerTransitions = name("baton_circuit_breaker_transitions", "total",
                                         "Circuit breaker state changes, by breaker, from and to state.")
    static let breakerState = name("baton_circuit_breaker_state", "",
                                   "A circuit breaker's state: 0 closed, 1 half-open, 2 open.")
    static let sagaCompensations = name("baton_saga_compensations", "total",
                                        "Sagas begun, by definition and reason (failed, cancelled).")
    static let signals = name("baton_signals", "total",
                              "Signals recorded, by definition and signal (\"other\" for names the definition does not wait for).")
    static let queueDepth = name("baton_task_queue_depth", "", "Activity attempts waiting for a worker, by task queue.")
    static let queuePollers = name("baton_task_queue_pollers", "", "Workers waiting in PollActivityTask, by task queue.")
    static let grpcHandled = name("grpc_server_handled", "total",
                                  "RPCs completed on the server, by service, method and status code.")
    static let grpcHandlingSeconds = name("grpc_server_handling", "seconds",
                                          "Time from an RPC's request headers to its status, by service and method.")
    static let storeCommitSeconds = name("baton_store_commit", "seconds",
                                         "Duration of each history-store transaction (one group commit).")
    static let storeBatchChanges = name("baton_store_batch", "changes",
                                        "Changes (decisions) committed together in one history-store transaction.")
    static let streamSubscribers = name("baton_stream_subscribers", "",
                                        "Live subscriptions to runs' progress and history streams.")
    static let spansDropped = name("baton_trace_spans_dropped", "total",
                                   "Trace spans not exported, by reason (queue_full, export_failed).")

    static let workflowBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(1_800), .seconds(3_600), .seconds(21_600),
        .seconds(86_400),
    ]
    static let activityBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
        .milliseconds(500), .seconds(1), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        .seconds(3_600),
    ]
    static let rpcBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(120),
    ]
    static let commitBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .seconds(1),
    ]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024, 4_096]
}
