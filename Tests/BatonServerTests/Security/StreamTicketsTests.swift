@testable import BatonServer
import Testing

/// Stream tickets: random, carrying the token they were issued for, valid a minute for any number of
/// requests, unknown or expired ones refused.
@Suite(.timeLimit(.minutes(1))) struct StreamTicketsTests {
    static let reader = AuthFile.Token(name: "dash", digest: [], role: .reader, taskQueues: nil, requestsPerSecond: nil)

    @Test func aTicketStandsForItsTokenUntilItExpires() throws {
        let tickets = StreamTickets()
        let now = ContinuousClock.now
        let (ticket, _) = try tickets.issue(for: Self.reader, now: now)
        #expect(ticket.count == 32 && ticket.allSatisfy(\.isHexDigit))
        #expect(tickets.redeem(ticket, now: now)?.name == "dash")
        #expect(tickets.redeem(ticket, now: now + .seconds(59))?.role == .reader, "reusable within its minute")
        #expect(tickets.redeem(ticket, now: now + .seconds(61)) == nil)
        #expect(tickets.redeem(ticket, now: now) == nil, "an expired ticket is forgotten")
        #expect(tickets.redeem("0123456789abcdef0123456789abcdef", now: now) == nil)
        let (other, _) = try tickets.issue(for: Self.reader, now: now)
        #expect(other != ticket)
    }

    @Test func liveTicketsAreBounded() throws {
        let tickets = StreamTickets()
        let now = ContinuousClock.now
        for _ in 0..<StreamTickets.maxLive { _ = try tickets.issue(for: Self.reader, now: now) }
        #expect(throws: (any Error).self) { try tickets.issue(for: Self.reader, now: now) }
        // Once they expire, room is made again.
        _ = try tickets.issue(for: Self.reader, now: now + .seconds(61))
    }
}
