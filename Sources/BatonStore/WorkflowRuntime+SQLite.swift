import BatonCore
import BatonEngine

extension WorkflowRuntime {
    /// Opens a runtime over the SQLite database at `path` and recovers its open workflows.
    /// `breakerPolicies` (server configuration) and `defaultActivityEstimate` are passed to
    /// ``WorkflowRuntime/init(store:clock:activities:dispatcher:shardCount:breakerPolicies:defaultActivityEstimate:)``.
    ///
    /// ```swift
    /// let runtime = try await WorkflowRuntime.open(path: "baton.sqlite", durability: .full,
    ///                                               clock: SystemClock(epochMilliseconds: nowMs))
    /// defer { Task { await runtime.close() } }
    /// ```
    public static func open(
        path: String, durability: Durability = .full, clock: any WorkflowClock,
        activities: InProcessActivities? = nil, dispatcher: (any ActivityDispatcher)? = nil, shardCount: Int = 4,
        breakerPolicies: [String: CircuitBreakerPolicy] = [:], defaultActivityEstimate: Interval? = nil,
        limits: RuntimeLimits = RuntimeLimits()
    ) async throws(BatonError) -> WorkflowRuntime {
        let store = try SQLiteWorkflowStore(path: path, durability: durability, now: clock.now())
        let runtime = WorkflowRuntime(
            store: store, clock: clock, activities: activities, dispatcher: dispatcher, shardCount: shardCount,
            breakerPolicies: breakerPolicies, defaultActivityEstimate: defaultActivityEstimate, limits: limits)
        do {
            try await runtime.recover()
        } catch {
            store.close()
            throw error
        }
        return runtime
    }

    /// Shuts the runtime down and, for a SQLite store, commits what is queued and stops the writer.
    public func close() async {
        await shutdown()
        (store as? SQLiteWorkflowStore)?.close()
    }
}
