/// Which timeout fired.
public enum TimeoutKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// Not started in time.
    case scheduleToStart = "schedule_to_start"
    /// Started but no result in time.
    case startToClose = "start_to_close"
    /// The step as a whole, across attempts, ran out of time.
    case scheduleToClose = "schedule_to_close"
    /// A started attempt stopped heartbeating.
    case heartbeat
}
