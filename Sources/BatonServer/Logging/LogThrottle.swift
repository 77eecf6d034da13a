/// Bounds how many lines a repeated condition writes: at most `lines` per `interval`; the lines
/// over the budget are only counted, and the next line written reports how many were left out. A
/// flood (of failing writes, refused requests, failed exports) cannot fill the disk this way.
struct LogThrottle: Sendable {
    private let lines: Int
    private let interval: Duration
    private var windowStart: ContinuousClock.Instant?
    private var written = 0
    private var suppressed = 0

    /// At most `lines` lines per `interval`.
    init(lines: Int = 1, interval: Duration) {
        self.lines = lines
        self.interval = interval
    }

    /// Whether a line may be written at `now`: nil when not (it is counted), else how many lines
    /// were left out since the last one written.
    mutating func admit(now: ContinuousClock.Instant = .now) -> Int? {
        if let start = windowStart, now - start < interval {
            guard written < lines else {
                suppressed += 1
                return nil
            }
        } else {
            windowStart = now
            written = 0
        }
        written += 1
        defer { suppressed = 0 }
        return suppressed
    }

    /// Starts over (the condition ended); returns how many lines were left out since the last one written.
    mutating func reset() -> Int {
        defer { windowStart = nil; written = 0; suppressed = 0 }
        return suppressed
    }
}
