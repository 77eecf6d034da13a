import BatonCore
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct JSONValueTests {
    @Test func codableRoundTrip() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true], "b": ["c": false]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }

    @Test func canonicalTextSortsKeysAndFormatsIntegers() {
        let value: JSONValue = ["b": 1, "a": [2.5, "q\"uote\n"], "c": nil]
        #expect(value.canonicalText == #"{"a":[2.5,"q\"uote\n"],"b":1,"c":null}"#)
    }

    @Test func lookupFollowsKeysAndIndexes() {
        let value: JSONValue = ["items": [["id": "x"], ["id": "y"]]]
        #expect(value.lookup(["items", "1", "id"]) == "y")
        #expect(value.lookup(["items", "7", "id"]) == .null)
        #expect(value.lookup(["nope"]) == .null)
    }
}
