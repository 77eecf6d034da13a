import BatonCore
import Synchronization

/// In-process activities: Swift async closures registered by name, plus the built-ins
/// `builtin.echo`, `builtin.fail` and `builtin.simulate`.
///
/// ```swift
/// let activities = InProcessActivities(clock: clock)
/// activities.register("greet") { context in
///     .string("hello \(context.input["name"]?.stringValue ?? "?")")
/// }
/// ```
///
/// Built-ins:
/// - `builtin.echo` returns its input.
/// - `builtin.fail` fails with `{type, message}`; with `attempts: N` only the first N attempts fail
///   (later ones return the input); `non_retryable: true` marks the failure non-retryable.
/// - `builtin.simulate` waits `duration` (e.g. `"50ms"`, on the runtime clock) and fails with
///   probability `failure_probability`, decided by `seed` and the idempotency key (deterministic);
///   returns `output` (default: the input).
public final class InProcessActivities: ActivityDispatcher {
    /// An activity implementation.
    public typealias Handler = @Sendable (ActivityContext) async throws -> JSONValue

    private let clock: any WorkflowClock
    private let handlers = Mutex<[String: Handler]>([:])
    private let running = Mutex<[String: Task<Void, Never>]>([:])

    /// Creates the registry with the built-ins; `clock` drives `builtin.simulate`.
    public init(clock: any WorkflowClock) {
        self.clock = clock
        register("builtin.echo") { $0.input }
        register("builtin.fail", handler: Self.fail)
        register("builtin.simulate", handler: Self.simulate)
    }

    /// Registers (or replaces) the activity `name`.
    public func register(_ name: String, handler: @escaping Handler) {
        handlers.withLock { $0[name] = handler }
    }

    /// Whether `activity` is registered here.
    public func startsOnDispatch(_ activity: String) -> Bool {
        handlers.withLock { $0[activity] != nil }
    }

    /// Runs the attempt in a new task; an unregistered activity fails non-retryably with `ActivityNotRegistered`.
    public func dispatch(_ task: ActivityTask, reporter: ActivityReporter) {
        let handler = handlers.withLock { $0[task.activity] }
        let context = ActivityContext(task: task, clock: clock, reporter: reporter)
        let key = task.idempotencyKey
        // The task is registered under the lock it takes to unregister itself, so a fast job
        // can never finish before its entry exists (no stale entries).
        running.withLock { running in
            running[key] = Task {
                defer { _ = self.running.withLock { $0.removeValue(forKey: key) } }
                guard let handler else {
                    await reporter.fail(ActivityFailure(
                        type: "ActivityNotRegistered", message: "no activity '\(task.activity)' is registered",
                        nonRetryable: true))
                    return
                }
                do {
                    let output = try await handler(context)
                    if !Task.isCancelled { await reporter.complete(output) }
                } catch let failure as ActivityFailure {
                    await reporter.fail(failure)
                } catch is CancellationError {
                    return
                } catch {
                    await reporter.fail(ActivityFailure(type: String(describing: type(of: error)), message: String(describing: error)))
                }
            }
        }
    }

    /// Cancels the running task of the attempt, if any.
    public func cancel(_ task: AttemptRef, workflowID: String) {
        let key = "\(workflowID)/\(task.step)/\(task.attempt)"
        running.withLock { $0.removeValue(forKey: key) }?.cancel()
    }

    private static func fail(_ context: ActivityContext) async throws -> JSONValue {
        let input = context.input
        if let limit = input["attempts"]?.numberValue, context.task.attempt > Int(limit) { return input }
        throw ActivityFailure(
            type: input["type"]?.stringValue ?? "Failure", message: input["message"]?.stringValue ?? "builtin.fail",
            details: input["details"] ?? .null, nonRetryable: input["non_retryable"]?.boolValue ?? false)
    }

    private static func simulate(_ context: ActivityContext) async throws -> JSONValue {
        let input = context.input
        var duration = Interval.zero
        if let text = input["duration"]?.stringValue, let parsed = Interval(parsing: text) {
            duration = parsed
        } else if let milliseconds = input["duration"]?.numberValue {
            duration = .milliseconds(Int64(milliseconds))
        }
        if duration > .zero { try await context.sleep(for: duration) }
        let probability = input["failure_probability"]?.numberValue ?? 0
        let seed = UInt64(input["seed"]?.numberValue ?? 0)
        if probability > 0, Self.unitHash(seed: seed, key: context.task.idempotencyKey) < probability {
            throw ActivityFailure(type: "SimulatedFailure", message: "simulated failure of \(context.task.idempotencyKey)")
        }
        return input["output"] ?? input
    }

    /// A deterministic value in [0, 1) from a seed and a key (FNV-1a, then splitmix64 finalisation).
    public static func unitHash(seed: UInt64, key: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(UInt64(1) << 53)
    }
}
