import Synchronization

/// Bounds the handler work in progress: server-wide and per connection. A call over either limit is
/// answered RESOURCE_EXHAUSTED at once instead of queueing work the server cannot keep up with.
final class CallBudget: Sendable {
    private struct Counts {
        var total = 0
        var byConnection: [ObjectIdentifier: Int] = [:]
    }

    let maxTotal: Int
    let maxPerConnection: Int
    private let counts = Mutex(Counts())

    init(maxTotal: Int, maxPerConnection: Int) {
        self.maxTotal = max(1, maxTotal)
        self.maxPerConnection = max(1, maxPerConnection)
    }

    /// Takes a slot for a call on `connection`; the error names the limit when there is none.
    func acquire(_ connection: ObjectIdentifier) -> RPCError? {
        counts.withLock { counts -> RPCError? in
            if counts.total >= maxTotal {
                return RPCError(code: .resourceExhausted,
                                message: "the server has \(maxTotal) calls in progress (its limit); retry later")
            }
            let onConnection = counts.byConnection[connection] ?? 0
            if onConnection >= maxPerConnection {
                return RPCError(code: .resourceExhausted,
                                message: "this connection has \(maxPerConnection) calls in progress; the limit is "
                                    + "\(maxPerConnection) (streams_per_connection)")
            }
            counts.total += 1
            counts.byConnection[connection] = onConnection + 1
            return nil
        }
    }

    /// Gives back the slot of a call on `connection`.
    func release(_ connection: ObjectIdentifier) {
        counts.withLock { counts in
            counts.total -= 1
            let left = (counts.byConnection[connection] ?? 1) - 1
            counts.byConnection[connection] = left > 0 ? left : nil
        }
    }

    /// Calls in progress server-wide.
    var inProgress: Int { counts.withLock { $0.total } }
}
