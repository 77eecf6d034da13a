import Synchronization
import Testing

@testable import BatonHTTP2

/// Records which accounts were asked to close.
private final class Evictions: Sendable {
    private let names = Mutex<[String]>([])
    var all: [String] { names.withLock { $0 } }
    func record(_ name: String) { names.withLock { $0.append(name) } }
}

@Suite(.timeLimit(.minutes(1))) struct OutboundMemoryTests {
    private func accounts(_ memory: OutboundMemory, _ names: [String], evictions: Evictions)
        -> [String: OutboundMemory.Account] {
        var result: [String: OutboundMemory.Account] = [:]
        for name in names { result[name] = memory.open { evictions.record(name) } }
        return result
    }

    @Test func bytesUnderTheLimitAreAdmittedWithoutClosingAnything() {
        let memory = OutboundMemory(limit: 100)
        let evictions = Evictions()
        let a = accounts(memory, ["a", "b"], evictions: evictions)
        #expect(memory.admit(60, for: a["a"]!))
        memory.add(60, to: a["a"]!)
        #expect(memory.admit(40, for: a["b"]!))
        memory.add(40, to: a["b"]!)
        #expect(memory.bytes == 100)
        #expect(a["a"]!.unreadBytes == 60)
        #expect(evictions.all.isEmpty)
    }

    @Test func aConnectionThatReadsClosesTheOneHoldingTheMost() {
        let memory = OutboundMemory(limit: 100)
        let evictions = Evictions()
        let a = accounts(memory, ["small", "big", "reader"], evictions: evictions)
        memory.add(30, to: a["small"]!)
        memory.add(60, to: a["big"]!)
        // 20 more would pass the limit by 10: the largest holder goes, the smaller one stays.
        #expect(memory.admit(20, for: a["reader"]!))
        #expect(evictions.all == ["big"])
        #expect(memory.evictedConnections == 1)
        // Bytes of a connection that is closing count as free: no second eviction.
        #expect(memory.admit(20, for: a["reader"]!))
        #expect(evictions.all == ["big"])
        // The closing connection gets nothing more.
        #expect(!memory.admit(1, for: a["big"]!))
    }

    @Test func theConnectionHoldingTheMostIsRefusedAndClosesNobody() {
        let memory = OutboundMemory(limit: 100)
        let evictions = Evictions()
        let a = accounts(memory, ["hoarder", "other"], evictions: evictions)
        memory.add(70, to: a["hoarder"]!)
        memory.add(25, to: a["other"]!)
        #expect(!memory.admit(10, for: a["hoarder"]!))
        // "other" holds 25, less than a refused writer would: it is not closed for "hoarder"'s sake.
        #expect(evictions.all.isEmpty)
    }

    @Test func severalHoldersCloseUntilThereIsRoomLargestFirst() {
        let memory = OutboundMemory(limit: 100)
        let evictions = Evictions()
        let a = accounts(memory, ["h1", "h2", "h3", "reader"], evictions: evictions)
        // Over the limit (writers on other event loops were admitted at the same moment).
        memory.add(40, to: a["h1"]!)
        memory.add(36, to: a["h2"]!)
        memory.add(34, to: a["h3"]!)
        // 32 more need 42 bytes freed: h1 (40) is not enough, h2 goes too; h3 stays.
        #expect(memory.admit(32, for: a["reader"]!))
        #expect(evictions.all.sorted() == ["h1", "h2"])
        #expect(memory.evictedConnections == 2)
    }

    @Test func whenClosingEveryLargerHolderIsNotEnoughNothingIsClosed() {
        let memory = OutboundMemory(limit: 100)
        let evictions = Evictions()
        let a = accounts(memory, ["h1", "h2", "reader"], evictions: evictions)
        memory.add(50, to: a["h1"]!)
        memory.add(45, to: a["reader"]!)
        memory.add(5, to: a["h2"]!)
        // "reader" would hold 85 after 40 more and nobody holds more than that: refused.
        #expect(!memory.admit(40, for: a["reader"]!))
        #expect(evictions.all.isEmpty)
    }

    @Test func aClosedAccountIsForgotten() {
        let memory = OutboundMemory(limit: 10)
        let evictions = Evictions()
        let a = accounts(memory, ["gone", "reader"], evictions: evictions)
        memory.add(10, to: a["gone"]!)
        memory.remove(10, from: a["gone"]!)
        memory.close(a["gone"]!)
        #expect(memory.bytes == 0)
        #expect(memory.admit(10, for: a["reader"]!))
        #expect(evictions.all.isEmpty)
    }
}
