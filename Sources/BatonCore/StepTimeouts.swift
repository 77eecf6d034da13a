/// The four activity timeouts of DESIGN §2; `nil` disables one.
public struct StepTimeouts: Hashable, Sendable, Codable {
    /// From scheduling an attempt until a worker starts it.
    public var scheduleToStart: Interval?
    /// From the start of an attempt until its result.
    public var startToClose: Interval?
    /// From the first scheduling of the step until its final result, across all attempts.
    public var scheduleToClose: Interval?
    /// Longest allowed gap between heartbeats of a started attempt.
    public var heartbeat: Interval?

    /// Creates timeouts; all disabled by default.
    public init(
        scheduleToStart: Interval? = nil, startToClose: Interval? = nil, scheduleToClose: Interval? = nil,
        heartbeat: Interval? = nil
    ) {
        self.scheduleToStart = scheduleToStart
        self.startToClose = startToClose
        self.scheduleToClose = scheduleToClose
        self.heartbeat = heartbeat
    }
}
