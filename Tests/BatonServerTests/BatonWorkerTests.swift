import BatonClient
import BatonProto
import BatonRPC
import BatonServer
import Synchronization
import SwiftProtobuf
import Testing

/// The Swift worker API (`BatonWorker`) against a real server: activities complete, fail and are
/// retried, heartbeat with details for the next attempt, see cancellation, and respect the limit.
@Suite(.timeLimit(.minutes(3))) struct BatonWorkerTests {
    static let definition = """
        name: swift_worker
        defaults: { task_queue: swift-q, retry: { initial_interval: 50ms, maximum_attempts: 3 } }
        steps:
          flaky: { activity: flaky, input: { n: "${input.n}" } }
          slow: { activity: slow, depends_on: [flaky], heartbeat_timeout: 2s, input: { n: "${steps.flaky.output.n}" } }
        output: { n: "${steps.slow.output.n}", resumed: "${steps.slow.output.resumed}" }
        """

    private func withWorker(maxConcurrent: Int = 4, _ body: (BatonClient, BatonWorker) async throws -> Void) async throws {
        try await withTestServer { _, app in
            let client = BatonClient(host: "127.0.0.1", port: app.port)
            let worker = BatonWorker(client: client, taskQueue: "swift-q", maxConcurrent: maxConcurrent,
                                     pollWait: .seconds(2))
            let running = Task { await worker.run() }
            do {
                try await body(client, worker)
            } catch {
                worker.stop()
                await running.value
                await client.close()
                throw error
            }
            worker.stop()
            await running.value
            await client.close()
        }
    }

    private func number(_ value: Double) -> Google_Protobuf_Value { .init(numberValue: value) }

    @Test func activitiesFailAreRetriedAndHeartbeatDetailsReachTheNextAttempt() async throws {
        try await withWorker { client, worker in
            worker.register("flaky") { context in
                // The first attempt fails with a typed error; the retry succeeds.
                if context.attempt == 1 { throw ActivityError(type: "Flaky", message: "not yet") }
                return .init(structValue: .init(fields: ["n": context.input.structValue.fields["n"] ?? .init()]))
            }
            worker.register("slow") { context in
                // Attempt 1 records progress then fails; attempt 2 resumes from the recorded details.
                if context.attempt == 1 {
                    try await context.heartbeat(.init(structValue: .init(fields: ["page": self.number(3)])))
                    throw ActivityError(type: "Crashed", message: "lost the printer")
                }
                let resumed = context.previousDetails?.structValue.fields["page"]?.numberValue ?? -1
                return .init(structValue: .init(fields: [
                    "n": context.input.structValue.fields["n"] ?? .init(), "resumed": self.number(resumed),
                ]))
            }
            _ = try await client.registerDefinition(source: Self.definition)
            let started = try await client.startWorkflow(.with {
                $0.definition = "swift_worker"
                $0.input = .init(structValue: .init(fields: ["n": self.number(7)]))
            })
            let closed = try await client.awaitWorkflow(started.workflowID, timeout: .seconds(60)).workflow
            #expect(closed.info.status == .completed, "\(closed)")
            #expect(closed.output.structValue.fields["n"]?.numberValue == 7)
            #expect(closed.output.structValue.fields["resumed"]?.numberValue == 3)
            #expect(closed.steps.map(\.attempts) == [2, 2])
        }
    }

    @Test func aCancelledRunCancelsItsActivityThroughTheHeartbeat() async throws {
        try await withWorker { client, worker in
            let began = AsyncStream<Void>.makeStream()
            let sawCancel = AsyncStream<Void>.makeStream()
            worker.register("flaky") { _ in .init(structValue: .init(fields: ["n": self.number(1)])) }
            worker.register("slow") { context in
                began.continuation.yield()
                do {
                    // A worker heartbeats as it makes progress (paced, as real work is), until cancelled.
                    while true {
                        try await context.heartbeat()
                        try await Task.sleep(for: .milliseconds(20))
                    }
                } catch is CancellationError {
                    sawCancel.continuation.yield()
                    throw CancellationError()
                } catch {
                    Issue.record("the activity saw \(error) instead of its cancellation")
                    throw error
                }
            }
            _ = try await client.registerDefinition(source: Self.definition)
            let run = try await client.startWorkflow(.with { $0.definition = "swift_worker" })
            var iterator = began.stream.makeAsyncIterator()
            _ = await iterator.next()
            try await client.cancel(run.workflowID, reason: "test")
            let closed = try await client.awaitWorkflow(run.workflowID, timeout: .seconds(60)).workflow
            #expect(closed.info.status == .cancelled)
            // The activity learns it through its next heartbeat (the run may close first); the suite's
            // time limit bounds the wait.
            var seen = sawCancel.stream.makeAsyncIterator()
            #expect(await seen.next() != nil)
        }
    }

    @Test func noMoreThanMaxConcurrentAttemptsRunAtOnce() async throws {
        let definition = """
            name: fan
            defaults: { task_queue: swift-q }
            steps:
              a: { activity: hold }
              b: { activity: hold }
              c: { activity: hold }
              d: { activity: hold }
            """
        try await withWorker(maxConcurrent: 2) { client, worker in
            // Each attempt waits until a second one is running, so two run together, never more.
            let pairs = Pairs()
            worker.register("hold") { _ in
                await pairs.meet()
                return .init(boolValue: true)
            }
            _ = try await client.registerDefinition(source: definition)
            let run = try await client.startWorkflow(.with { $0.definition = "fan" })
            let closed = try await client.awaitWorkflow(run.workflowID, timeout: .seconds(60)).workflow
            #expect(closed.info.status == .completed)
            #expect(worker.peakConcurrency == 2)
        }
    }
}

/// Lets callers through two at a time: the first waits until a second arrives.
private final class Pairs: Sendable {
    private let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)

    func meet() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let partner: CheckedContinuation<Void, Never>? = waiting.withLock { first in
                guard let earlier = first else {
                    first = continuation
                    return nil
                }
                first = nil
                return earlier
            }
            if let partner {
                partner.resume()
                continuation.resume()
            }
        }
    }
}
