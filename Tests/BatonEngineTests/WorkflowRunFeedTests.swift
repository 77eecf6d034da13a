import BatonCore
@testable import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct WorkflowRunFeedTests {
    @Test func aWatchSeesRunsStartAndCloseWithTheirCommittedSummaries() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        var watch = runtime.runFeed.watch()
        #expect(runtime.runFeed.watcherCount == 1)
        let id = try await runtime.startWorkflow("gated").id
        let started = try #require(await watch.next())
        #expect(started.runs.map(\.workflowID) == [id])
        #expect(started.runs.first?.status == .running)
        #expect(started.runs.first?.definition == DefinitionRef(name: "gated", version: 1))

        try await runtime.signal(id, name: "one")
        try await runtime.signal(id, name: "two", payload: ["who": "ana"])
        _ = try await runtime.awaitCompletion(id)
        // Signals change no status: the next mail is the close (one entry, the newest summary).
        let closed = try #require(await watch.next())
        #expect(closed.runs.count == 1)
        #expect(closed.runs.first?.status == .completed)
        #expect(closed.runs.first?.closedAt != nil)
        #expect(closed.runs.first?.lastEventID == (try await runtime.history(id).last?.id))
        await runtime.shutdown()
    }

    @Test func aMailboxKeepsOneEntryPerRunAndOverflowsPastItsLimit() {
        let feed = WorkflowRunFeed()
        let watch = feed.watch()
        let summary = { (id: String, status: WorkflowStatus) in
            WorkflowSummary(workflowID: id, definition: DefinitionRef(name: "d", version: 1), status: status,
                            startedAt: Instant(millisecondsSinceEpoch: 0), closedAt: nil, lastEventID: 1)
        }
        feed.changed(summary("a", .running))
        feed.changed(summary("b", .running))
        feed.changed(summary("a", .completed))
        let mail = watch.mailbox.take()
        #expect(mail.runs.map(\.workflowID) == ["a", "b"])
        #expect(mail.runs.map(\.status) == [.completed, .running])
        for index in 0...WorkflowRunFeed.mailboxLimit { feed.changed(summary("r\(index)", .running)) }
        let overflowed = watch.mailbox.take()
        #expect(overflowed.overflowed)
        #expect(overflowed.runs.isEmpty)
        _ = watch
    }

    @Test func droppingAWatchUnregistersIt() {
        let feed = WorkflowRunFeed()
        do {
            let watch = feed.watch()
            #expect(feed.watcherCount == 1)
            _ = watch
        }
        #expect(feed.watcherCount == 0)
    }
}
