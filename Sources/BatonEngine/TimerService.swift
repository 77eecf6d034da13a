import BatonCore
import HeapModule

/// Durable timers in memory: a heap ordered by deadline, fed from the store at startup and from
/// committed decisions afterwards. Fires each due timer once through `deliver`.
actor TimerService {
    private struct Entry: Comparable {
        var fireAt: Instant
        var key: Key
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.fireAt, lhs.key.workflowID, lhs.key.timer) < (rhs.fireAt, rhs.key.workflowID, rhs.key.timer)
        }
    }

    private struct Key: Hashable {
        var workflowID: String
        var timer: String
    }

    private let clock: any WorkflowClock
    private let deliver: @Sendable (DurableTimer) async -> Void
    private var heap = Heap<Entry>()
    private var armed: [Key: Instant] = [:]
    private var wakeTask: Task<Void, Never>?
    private var wakeAt: Instant?
    private var stopped = false

    init(clock: any WorkflowClock, deliver: @escaping @Sendable (DurableTimer) async -> Void) {
        self.clock = clock
        self.deliver = deliver
    }

    /// Number of armed timers.
    var count: Int { armed.count }

    func schedule(_ timer: DurableTimer) {
        let key = Key(workflowID: timer.workflowID, timer: timer.timer)
        armed[key] = timer.fireAt
        heap.insert(Entry(fireAt: timer.fireAt, key: key))
        compactIfNeeded()
        rearm()
    }

    func cancel(workflowID: String, timer: String) {
        armed[Key(workflowID: workflowID, timer: timer)] = nil
    }

    func stop() {
        stopped = true
        wakeTask?.cancel()
        wakeTask = nil
    }

    private func compactIfNeeded() {
        guard heap.count > 1024, heap.count > armed.count * 2 else { return }
        heap = Heap(armed.map { Entry(fireAt: $0.value, key: $0.key) })
    }

    private func rearm() {
        guard !stopped, let first = heap.min else { return }
        if let wakeAt, wakeTask != nil, wakeAt <= first.fireAt { return }
        wakeTask?.cancel()
        wakeAt = first.fireAt
        let target = first.fireAt
        let clock = self.clock
        wakeTask = Task {
            do { try await clock.sleep(until: target) } catch { return }
            self.fireDue()
        }
    }

    private func fireDue() {
        wakeTask = nil
        wakeAt = nil
        guard !stopped else { return }
        let now = clock.now()
        var due: [DurableTimer] = []
        while let first = heap.min, first.fireAt <= now {
            heap.removeMin()
            if armed[first.key] == first.fireAt {
                armed[first.key] = nil
                due.append(DurableTimer(workflowID: first.key.workflowID, timer: first.key.timer, fireAt: first.fireAt))
            }
        }
        rearm()
        let deliver = self.deliver
        for timer in due { Task { await deliver(timer) } }
    }
}
