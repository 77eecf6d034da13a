import BatonCore
import BatonRPC
import Foundation
import Synchronization

/// Short-lived tickets that stand for a token on the HTTP event streams (`?ticket=`), for browsers,
/// whose EventSource cannot send an authorization header. A ticket is 128 random bits, valid for
/// ``lifetime`` for any number of requests (EventSource reconnects reuse the URL), and carries the
/// token's name and role — never the token. At most ``maxLive`` tickets are live at once.
final class StreamTickets: Sendable {
    private struct Issued {
        var token: AuthFile.Token
        var expires: ContinuousClock.Instant
    }

    private let live = Mutex<[String: Issued]>([:])

    /// How long a ticket is accepted.
    static let lifetime: Duration = .seconds(60)
    /// Tickets live at once, at most (a caller asking faster is RESOURCE_EXHAUSTED).
    static let maxLive = 10_000

    /// A new ticket for `token`, and when it expires (wall clock, for the response).
    func issue(for token: AuthFile.Token, now: ContinuousClock.Instant = .now) throws(RPCError) -> (String, Date) {
        var generator = SystemRandomNumberGenerator()
        let ticket = TraceContext.hex(generator.next()) + TraceContext.hex(generator.next())
        let stored = live.withLock { live -> Bool in
            if live.count >= Self.maxLive { live = live.filter { $0.value.expires > now } }
            guard live.count < Self.maxLive else { return false }
            live[ticket] = Issued(token: token, expires: now + Self.lifetime)
            return true
        }
        guard stored else {
            throw RPCError(code: .resourceExhausted, message: "\(Self.maxLive) stream tickets are live; the limit is "
                + "\(Self.maxLive); retry in a minute")
        }
        return (ticket, Date().addingTimeInterval(TimeInterval(Self.lifetime.components.seconds)))
    }

    /// The token `ticket` stands for, or nil when it is unknown or expired.
    func redeem(_ ticket: String, now: ContinuousClock.Instant = .now) -> AuthFile.Token? {
        live.withLock { live in
            guard let issued = live[ticket] else { return nil }
            guard issued.expires > now else {
                live[ticket] = nil
                return nil
            }
            return issued.token
        }
    }
}
