import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import BatonRPC
import NIOCore
import SwiftProtobuf
import Synchronization

/// Server-Sent Events (`text/event-stream`) for the simplest consumers, an `EventSource` in a page:
/// a run's progress and history (resumable: `id:` is the event id, `Last-Event-ID` resumes after it,
/// nothing is missed or repeated), and the live list of runs. Every stream sends a keep-alive comment
/// every 15 s and ends with `event: end` when its run closes; all of them end when the server shuts
/// down. Data lines are protobuf's JSON mapping of the API's messages.
final class EventStreams: Sendable {
    let service: WorkflowService
    /// The open streams' writers, by id: one shared ticker sends their keep-alives, and shutdown ends them.
    private let active = OpenStreams()
    private let ticker: Task<Void, Never>
    /// Wakes the circuit-breaker streams after every committed transition or reset.
    private let breakerChanges = Wakeups()

    /// Streams over `service`'s runtime, with a keep-alive comment every `keepAliveInterval`.
    init(service: WorkflowService, keepAliveInterval: Duration = .seconds(15)) {
        self.service = service
        let active = self.active
        let breakerChanges = self.breakerChanges
        service.runtime.breakers.observe { _ in breakerChanges.wakeAll() }
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: keepAliveInterval)
                let open = active.state.withLock { Array($0.writers.values) }
                for writer in open {
                    // A keep-alive waits for no slow client: each goes out on its own task.
                    Task { try? await writer.write(": keep-alive\n\n") }
                }
            }
        }
    }

    deinit { ticker.cancel() }

    /// Number of open streams.
    var openCount: Int { active.state.withLock { $0.writers.count } }

    /// Ends every open stream (the server is shutting down) and refuses new ones.
    func closeAll() {
        let writers = active.state.withLock { state in
            state.closed = true
            defer { state.writers = [:] }
            return Array(state.writers.values)
        }
        for writer in writers { writer.finish() }
        ticker.cancel()
    }

    // MARK: - Streams

    /// `GET /v1/workflows/{id}/progress`: one `progress` event per committed change (the streams of
    /// one run share one subscription, see ``ProgressFanout``). An unknown run is a 404.
    func progress(_ workflowID: String, _ request: WebRequest, _ response: WebResponseWriter) async throws {
        guard let after = try await streamStart(workflowID, request, response) else { return }
        guard try await admitted(workflowID, response) else { return }
        defer { service.runStreams.release(workflowID) }
        let active = self.active
        let unregister = Mutex<(@Sendable () -> Void)?>(nil)
        defer { unregister.withLock { $0 }?() }
        await service.progressFanout.follow(workflowID, after: after) { message, opened in
            if case .failed(let error) = message {
                if !opened { try await response.send(status: error.code.connectHTTPStatus, text: error.message) }
                return false
            }
            if !opened {
                try await Self.openEventStream(response)
                guard let remove = active.add(response) else { return false }
                unregister.withLock { $0 = remove }
            }
            switch message {
            case .progress(_, _, let text):
                try await response.write(text)
                return true
            case .end(let text):
                try await response.write(text)
                return false
            case .ready, .failed:
                return true
            }
        }
    }

    /// `GET /v1/workflows/{id}/history`: one `history` event per history event, in order.
    func history(_ workflowID: String, _ request: WebRequest, _ response: WebResponseWriter) async throws {
        try await follow(workflowID, request, response) { update, response in
            var text = ""
            for event in update.events {
                text += Self.event("history", id: event.id, data: try ProtoJSON.string(event.proto))
            }
            if !text.isEmpty { try await response.write(text) }
        }
    }

    /// `GET /v1/workflows[?status=…&definition=…]`: the newest page of runs, then every run that
    /// starts or closes, as `workflow` events (with a status filter, closes of matching runs are sent
    /// too, so a page can drop them); `reset` when the list must be re-read, followed by the page.
    func runList(_ request: WebRequest, _ response: WebResponseWriter) async throws {
        var query = Baton_V1_ListWorkflowsRequest()
        var statusFilter: WorkflowStatus?
        if let text = request.target["status"], !text.isEmpty {
            guard let status = Self.status(named: text) else {
                return try await response.send(status: 400, text: "status: '\(text)' is not a workflow status "
                    + "(e.g. WORKFLOW_STATUS_RUNNING or RUNNING)")
            }
            statusFilter = status
            query.status = status.proto
        }
        let definition = request.target["definition"] ?? ""
        query.definition = definition
        query.pageSize = 50
        if let size = request.target["page_size"] {
            guard let value = Int32(size), (1...1000).contains(value) else {
                return try await response.send(status: 400, text: "page_size: must be between 1 and 1000")
            }
            query.pageSize = value
        }
        let service = self.service
        let (filter, page) = (statusFilter, query)
        try await stream(response) { open in
            var watch = service.runtime.runFeed.watch()  // before the page: no start or close is missed
            let firstPage: Baton_V1_ListWorkflowsResponse
            do {
                firstPage = try await service.listPage(page)
            } catch let error as RPCError {
                return try await response.send(status: error.code.connectHTTPStatus, text: error.message)
            }
            try await open()
            for info in firstPage.workflows { try await response.write(Self.event("workflow", data: try ProtoJSON.string(info))) }
            while let mail = await watch.next() {
                if mail.overflowed {
                    let again = try await service.listPage(page)
                    try await response.write(Self.event("reset", data: "{}"))
                    for info in again.workflows { try await response.write(Self.event("workflow", data: try ProtoJSON.string(info))) }
                    continue
                }
                var text = ""
                for run in mail.runs where (definition.isEmpty || run.definition.name == definition)
                    && (filter == nil || run.status == filter || filter == .running) {
                    text += Self.event("workflow", data: try ProtoJSON.string(run.proto))
                }
                if !text.isEmpty { try await response.write(text) }
            }
        }
    }

    /// `GET /v1/circuit-breakers`: `event: breakers` with every breaker (ListCircuitBreakersResponse
    /// JSON) at once and after each committed state change or reset (changes while the client reads
    /// are coalesced into the newest list).
    func breakers(_ request: WebRequest, _ response: WebResponseWriter) async throws {
        let runtime = service.runtime
        let (changes, forget) = breakerChanges.add()
        defer { forget() }
        try await stream(response) { open in
            try await open()
            var next = changes.makeAsyncIterator()
            repeat {
                let list = Baton_V1_ListCircuitBreakersResponse.with {
                    $0.breakers = runtime.circuitBreakers().sorted { $0.key < $1.key }.map(\.proto)
                }
                try await response.write(Self.event("breakers", data: try ProtoJSON.string(list)))
            } while await next.next() != nil
        }
    }

    /// Validates a run stream's request: the workflow id and `Last-Event-ID` (or `?after=`). Answers
    /// 400 and returns nil when one is malformed; else the event id to resume after (0: from the start).
    private func streamStart(_ workflowID: String, _ request: WebRequest, _ response: WebResponseWriter) async throws
        -> Int64? {
        let limits = service.runtime.limits
        do {
            try Validate.workflowID(workflowID, field: "workflow id", limits: limits)
        } catch {
            try await response.send(status: 400, text: error.message)
            return nil
        }
        guard let lastSeen = request.header("last-event-id") ?? request.target["after"] else { return 0 }
        guard lastSeen.count <= 18, let value = Int64(lastSeen), value >= 0 else {
            try await response.send(status: 400, text: "Last-Event-ID: '\(lastSeen.prefix(40))' is not an "
                + "event id (a whole number of at most 18 digits)")
            return nil
        }
        return value
    }

    /// Counts the stream as one of the run's (``RunStreamLimiter``); past `subscribers_per_run` answers
    /// 429 with the limit named and returns false.
    private func admitted(_ workflowID: String, _ response: WebResponseWriter) async throws -> Bool {
        do {
            try service.runStreams.admit(workflowID)
            return true
        } catch {
            try await response.send(status: error.code.connectHTTPStatus, text: error.message)
            return false
        }
    }

    /// Validates a run stream's request, reads its first update (so an unknown run is a 404 before any
    /// event), then writes every update with `body` and ends with `event: end` once the run closed.
    private func follow(_ workflowID: String, _ request: WebRequest, _ response: WebResponseWriter,
                        _ body: @escaping @Sendable (WorkflowUpdate, WebResponseWriter) async throws -> Void) async throws {
        guard let after = try await streamStart(workflowID, request, response) else { return }
        guard try await admitted(workflowID, response) else { return }
        defer { service.runStreams.release(workflowID) }
        let runtime = service.runtime
        let resumeAfter = after
        try await stream(response) { open in
            var updates = runtime.subscribe(workflowID, afterEventID: resumeAfter).makeAsyncIterator()
            var update: WorkflowUpdate?
            do {
                update = try await updates.next()
            } catch {
                let mapped = (error as? BatonError)?.rpcError ?? RPCError(code: .internal, message: "\(error)")
                return try await response.send(status: mapped.code.connectHTTPStatus, text: mapped.message)
            }
            try await open()
            var status = update?.progress.status
            while let current = update {
                try await body(current, response)
                status = current.progress.status
                update = try await updates.next()
            }
            let end = "{\"status\":\"WORKFLOW_STATUS_\(status?.rawValue ?? "UNSPECIFIED")\"}"
            try await response.write(Self.event("end", data: end))
        }
    }

    /// Runs `body` as a stream that the client leaving or the server shutting down ends. `body` calls
    /// `open` once it knows it will stream (before that it may answer with an error instead): the
    /// event-stream head goes out and the stream joins the keep-alive ticker.
    private func stream(_ response: WebResponseWriter,
                        _ body: (_ open: () async throws -> Void) async throws -> Void) async throws {
        var unregister: (@Sendable () -> Void)?
        defer { unregister?() }
        try await body {
            try await Self.openEventStream(response)
            unregister = active.add(response)
        }
    }

    /// The head of an event stream and its reconnection delay.
    static func openEventStream(_ response: WebResponseWriter) async throws {
        try await response.head(status: 200, headers: [
            ("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"),
            ("x-accel-buffering", "no"),
        ])
        try await response.write("retry: 2000\n\n")
    }

    // MARK: - Formatting

    /// One event: `id:` (when given), `event:`, `data:` and the blank line that ends it.
    static func event(_ name: String, id: Int64? = nil, data: String) -> String {
        var text = ""
        if let id { text += "id: \(id)\n" }
        return text + "event: \(name)\ndata: \(data)\n\n"
    }

    /// A status from `WORKFLOW_STATUS_RUNNING` or `RUNNING` (any case).
    static func status(named text: String) -> WorkflowStatus? {
        var name = text.uppercased()
        if name.hasPrefix("WORKFLOW_STATUS_") { name.removeFirst("WORKFLOW_STATUS_".count) }
        return WorkflowStatus(rawValue: name)
    }
}

/// The writers of the open event streams, by id.
private final class OpenStreams: Sendable {
    let state = Mutex<(next: Int, writers: [Int: WebResponseWriter], closed: Bool)>((0, [:], false))

    /// Registers an open stream; returns how to unregister it, or nil (and ends it) when shutting down.
    func add(_ writer: WebResponseWriter) -> (@Sendable () -> Void)? {
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            state.next += 1
            state.writers[state.next] = writer
            return state.next
        }
        guard let id else {
            writer.finish()
            return nil
        }
        return { [self] in _ = state.withLock { $0.writers.removeValue(forKey: id) } }
    }
}

/// Wake-ups for any number of waiters, at most one buffered each (a burst of changes is one wake-up).
private final class Wakeups: Sendable {
    private let waiters = Mutex<(next: Int, all: [Int: AsyncStream<Void>.Continuation])>((0, [:]))

    /// A new waiter's stream and how to remove it.
    func add() -> (AsyncStream<Void>, @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = waiters.withLock { waiters in
            waiters.next += 1
            waiters.all[waiters.next] = continuation
            return waiters.next
        }
        return (stream, { [self] in waiters.withLock { $0.all.removeValue(forKey: id) }?.finish() })
    }

    func wakeAll() {
        for continuation in waiters.withLock({ Array($0.all.values) }) { continuation.yield() }
    }
}
