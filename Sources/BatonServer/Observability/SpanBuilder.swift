import BatonCore
import BatonEngine
import Dispatch
import Logging
import Synchronization

/// Turns committed batches into finished spans, one ``RunSpans`` per open run, on the
/// ``ObservationPump``'s thread (off the engine's threads). A run first seen mid-way (after a
/// restart) is rebuilt from its history first, so its spans keep their ids and parent; that read
/// is the one wait here (once per run, after a restart).
final class SpanBuilder {
    private let runtime: WorkflowRuntime
    private let logger: Logger
    private var runs: [String: RunSpans] = [:]
    /// Step tables by definition version (bounded by the definitions registered).
    private var definitions: [DefinitionRef: RunSpans.Steps] = [:]

    init(runtime: WorkflowRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    /// The spans `batches` end, in order (only sampled runs' spans).
    func spans(_ batches: [CommittedEvents]) -> [FinishedSpan] {
        var ended: [FinishedSpan] = []
        for batch in batches {
            guard let trace = batch.trace else { continue }
            // Taken out for the batch (one lookup, and mutated while uniquely held), put back unless closed.
            var run = runs.removeValue(forKey: batch.workflowID) ?? rebuild(batch, trace: trace)
            var closed = false
            for event in batch.events {
                let spans = run.apply(event)
                if spans.last?.spanID == run.rootSpanID { closed = true }
                if trace.sampled { ended += spans }
            }
            if !closed { runs[batch.workflowID] = run }
        }
        return ended
    }

    /// The run's builder: new for a run that starts in `batch`, else rebuilt from the history before it.
    private func rebuild(_ batch: CommittedEvents, trace: TraceContext) -> RunSpans {
        let ref = batch.definition
        var spans = RunSpans(trace: trace, workflowID: RunKey.split(batch.workflowID).0, runID: batch.runID,
                             definition: ref, steps: steps(of: ref), start: batch.startedAt ?? .epoch)
        guard let first = batch.events.first, first.id > 1 else { return spans }
        let key = batch.workflowID
        let runtime = self.runtime
        let earlier = Self.wait { () -> Result<[WorkflowEvent], BatonError> in
            do throws(BatonError) {
                return .success(try await runtime.history(key, afterEventID: 0, limit: Int(first.id - 1)))
            } catch {
                return .failure(error)
            }
        }
        switch earlier {
        case .success(let events):
            for event in events { _ = spans.apply(event) }  // their spans were exported before the restart
        case .failure(let error):
            logger.warning("trace spans of a run cannot be rebuilt from its history; its earlier spans are missing",
                           metadata: ["workflow_id": .string(key), "error": .string("\(error)")])
        }
        return spans
    }

    /// The step table of `ref`, made once per definition version (nil when it cannot be loaded).
    private func steps(of ref: DefinitionRef) -> RunSpans.Steps? {
        if let known = definitions[ref] { return known }
        let runtime = self.runtime
        var definition = runtime.registry.cachedDefinition(named: ref.name, version: ref.version)?.0
        if definition == nil {
            definition = Self.wait { try? await runtime.registry.definition(named: ref.name, version: ref.version).0 }
        }
        guard let definition else { return nil }
        let steps = RunSpans.Steps(definition)
        definitions[ref] = steps
        return steps
    }

    /// Runs `body` on the concurrency pool and waits for it (this thread is not one of the pool's).
    private static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<T?>(nil)
        Task {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}
