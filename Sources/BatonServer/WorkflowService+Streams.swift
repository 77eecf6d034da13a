import BatonCodec
import BatonCore
import BatonEngine
import BatonProto
import BatonRPC
import SwiftProtobuf
import Synchronization

extension WorkflowService {
    func query(_ request: Baton_V1_QueryRequest, _ context: ServerCallContext) async throws -> Baton_V1_QueryResponse {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        let name = request.query.isEmpty ? "progress" : request.query
        try Validate.name(name, field: "query")
        let key = try await runKey(request.workflowID, request.runID)
        if name == "progress" {
            // The same message, field names and units as StreamProgress: one vocabulary.
            let progress = try await mappingErrors { try await runtime.progress(key) }
            let value = try Google_Protobuf_Value(jsonString: ProtoJSON.string(progress.proto))
            return .with { $0.result = value }
        }
        let result = try await mappingErrors { try await runtime.query(key, name) }
        return .with { $0.result = result.proto }
    }

    func streamProgress(_ request: Baton_V1_StreamProgressRequest, _ writer: RPCResponseWriter<Baton_V1_Progress>,
                        _ context: ServerCallContext) async throws {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        guard request.afterEventID >= 0 else {
            throw RPCError(code: .invalidArgument, message: "after_event_id: must be 0 or a positive event id")
        }
        // The call shares the run's one subscription with every other progress stream; the first
        // message is the current progress (a resumed stream needs nothing older: progress is a state).
        let failure = Mutex<RPCError?>(nil)
        let key = try await runKey(request.workflowID, request.runID)
        try runStreams.admit(key)
        defer { runStreams.release(key) }
        await progressFanout.follow(key, after: -1) { message, _ in
            switch message {
            case .progress(_, let progress, _):
                try await writer.write(progress)
                return true
            case .end:
                return false
            case .ready:
                return true
            case .failed(let error):
                failure.withLock { $0 = error }
                return false
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        try Task.checkCancellation()
    }

    func watchHistory(_ request: Baton_V1_WatchHistoryRequest, _ writer: RPCResponseWriter<Baton_V1_HistoryEvent>,
                      _ context: ServerCallContext) async throws {
        try Validate.workflowID(request.workflowID, limits: runtime.limits)
        let key = try await runKey(request.workflowID, request.runID)
        try await runStreams.holding(key) {
            try await forEachUpdate(key, after: request.afterEventID) { update in
                for event in update.events { try await writer.write(event.proto) }
            }
        }
    }

    /// Validates a stream request and runs `body` for each update of the run's subscription.
    private func forEachUpdate(_ workflowID: String, after eventID: Int64,
                               _ body: (WorkflowUpdate) async throws -> Void) async throws {
        guard eventID >= 0 else {
            throw RPCError(code: .invalidArgument, message: "after_event_id: must be 0 or a positive event id")
        }
        // Following a run (progress of a large run is computed per update) runs on the global executor,
        // never on the connection's event loop, so it cannot stall other calls on that loop.
        let runtime = self.runtime
        try await mappingErrors {
            try await withTaskExecutorPreference(globalConcurrentExecutor) {
                for try await update in runtime.subscribe(workflowID, afterEventID: eventID) { try await body(update) }
            }
        }
    }
}

extension WorkflowProgress {
    /// The API's progress message.
    var proto: Baton_V1_Progress {
        Baton_V1_Progress.with {
            $0.workflowID = RunKey.split(workflowID).workflowID
            $0.status = status.proto
            $0.percentage = percentage.roundedToTenths
            $0.currentPhase = currentPhase ?? ""
            $0.runningSteps = running
            $0.completedSteps = completed
            $0.failedSteps = failed
            $0.skippedSteps = skipped
            $0.attempts = attempts.mapValues { Int32($0) }
            $0.elapsed = .init(milliseconds: elapsed.milliseconds)
            // A run waiting for a signal waits for a person or another system: no honest estimate.
            // A closed run has no estimate (the field stays unset, as the proto says).
            if let etaMilliseconds, waitingForSignals.isEmpty, !status.isClosed {
                $0.eta = .init(milliseconds: etaMilliseconds)
            }
            $0.eventID = lastEventID
            $0.waitingForSignals = waitingForSignals
            if $0.hasEta, let etaUntilSignal { $0.etaUntilSignal = etaUntilSignal }
        }
    }
}

extension Double {
    /// To one decimal: a percentage a person reads (`84.6`, not `84.61538461538461`).
    var roundedToTenths: Double { (self * 10).rounded() / 10 }
}

extension Google_Protobuf_Duration {
    /// A duration of `milliseconds`.
    init(milliseconds: Int64) {
        self.init(seconds: milliseconds / 1000, nanos: Int32(milliseconds % 1000) * 1_000_000)
    }
}
