import BatonCore
@testable import BatonEngine
import Testing

@Suite(.timeLimit(.minutes(2))) struct SubscriptionTests {
    @Test func snapshotFirstThenOrderedChangesUntilClosed() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        var updates = runtime.subscribe(id).makeAsyncIterator()
        let snapshot = try #require(try await updates.next())
        #expect(snapshot.kind == .snapshot)
        #expect(snapshot.events.first?.kind.typeName == "WorkflowStarted")
        #expect(snapshot.events.map(\.id) == Array(1...snapshot.state.lastEventID))
        #expect(snapshot.progress.currentPhase == "intake")
        var seen = snapshot.events.map(\.id)

        try await runtime.signal(id, name: "one")
        let afterOne = try #require(try await updates.next())
        #expect(afterOne.kind == .change)
        #expect(afterOne.events.first?.kind.typeName == "SignalReceived")
        #expect(afterOne.progress.currentPhase == "review")
        seen += afterOne.events.map(\.id)

        try await runtime.signal(id, name: "two", payload: ["who": "ana"])
        while let update = try await updates.next() {
            #expect(update.kind == .change)
            seen += update.events.map(\.id)
        }
        let history = try await runtime.history(id)
        #expect(seen == history.map(\.id))
        #expect(history.last?.kind.typeName == "WorkflowCompleted")
        await runtime.shutdown()
    }

    @Test func resumingFromAnEventIDYieldsExactlyTheMissedEvents() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        var first = runtime.subscribe(id).makeAsyncIterator()
        let lastSeen = try #require(try await first.next()?.events.last?.id)
        // The client disconnects; things happen meanwhile.
        try await runtime.signal(id, name: "one")
        try await runtime.signal(id, name: "two", payload: ["who": "bo"])
        _ = try await runtime.awaitCompletion(id)

        var resumed = runtime.subscribe(id, afterEventID: lastSeen).makeAsyncIterator()
        let snapshot = try #require(try await resumed.next())
        let missed = try await runtime.history(id, afterEventID: lastSeen)
        #expect(snapshot.kind == .snapshot)
        #expect(snapshot.events == missed)
        #expect(snapshot.state.status == .completed)
        #expect(try await resumed.next() == nil)
        _ = first
        await runtime.shutdown()
    }

    @Test func aSlowSubscriberGetsChangesCoalescedWithoutLosingEvents() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        var updates = runtime.subscribe(id).makeAsyncIterator()
        let snapshot = try #require(try await updates.next())
        // Three commits while the subscriber does not read.
        try await runtime.signal(id, name: "noise", requestID: "n1")
        try await runtime.signal(id, name: "one")
        try await runtime.signal(id, name: "noise", requestID: "n2")
        let coalesced = try #require(try await updates.next())
        #expect(coalesced.kind == .change)
        #expect(coalesced.events.map(\.id) == Array((snapshot.state.lastEventID + 1)...coalesced.state.lastEventID))
        #expect(coalesced.events.filter { $0.kind.typeName == "SignalReceived" }.count == 3)
        #expect(coalesced.progress.currentPhase == "review")
        try await runtime.terminate(id)
        #expect(try await updates.next()?.events.last?.kind.typeName == "WorkflowTerminated")
        #expect(try await updates.next() == nil)
        await runtime.shutdown()
    }

    @Test func aSubscriberFarBehindReadsItsGapFromTheStoreWithoutLosingOrRepeatingEvents() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        var updates = runtime.subscribe(id, pageSize: 200).makeAsyncIterator()
        let snapshot = try #require(try await updates.next())
        // More commits than a mailbox holds while the subscriber does not read: it overflows.
        for index in 0..<(WorkflowHub.mailboxLimit + 300) {
            try await runtime.signal(id, name: "noise", requestID: "n\(index)")
        }
        try await runtime.terminate(id)
        var delivered = snapshot.events
        var cursor = snapshot.state.lastEventID
        while let update = try await updates.next() {
            #expect(update.events.count <= 200)
            #expect(update.events.first.map { $0.id == cursor + 1 } ?? true, "a gap or a repeat after event \(cursor)")
            cursor = update.events.last?.id ?? cursor
            delivered += update.events
        }
        let history = try await runtime.history(id)
        #expect(delivered.map(\.id) == Array((snapshot.events.first?.id ?? snapshot.state.lastEventID + 1)...Int64(history.count)))
        #expect(delivered.last?.kind.typeName == "WorkflowTerminated")
        await runtime.shutdown()
    }

    @Test func unknownWorkflowsFailTheSubscription() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        var updates = runtime.subscribe("missing").makeAsyncIterator()
        await #expect(throws: BatonError.self) { _ = try await updates.next() }
        await runtime.shutdown()
    }
}

@Suite(.timeLimit(.minutes(2))) struct SignalRetryTests {
    @Test func aRetriedSignalAfterTheRunClosedIsNotRecordedAndNotAnError() async throws {
        let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: ManualClock())
        _ = try await runtime.register(source: gatedDefinition)
        let id = try await runtime.startWorkflow("gated").id
        #expect(try await runtime.signal(id, name: "one", requestID: "r-1"))
        #expect(try await runtime.signal(id, name: "two", payload: ["who": "ana"], requestID: "r-2"))
        _ = try await runtime.awaitCompletion(id)
        // The client did not see the answer to r-2 and retries after the run closed: already applied.
        #expect(try await runtime.signal(id, name: "two", payload: ["who": "ana"], requestID: "r-2") == false)
        // A new signal to the closed run is still refused.
        do {
            try await runtime.signal(id, name: "two", requestID: "r-3")
            Issue.record("a new signal to a closed run was accepted")
        } catch {
            #expect(error.code == .failedPrecondition)
        }
        await runtime.shutdown()
    }
}
