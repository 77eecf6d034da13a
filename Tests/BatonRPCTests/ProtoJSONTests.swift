import BatonProto
import SwiftProtobuf
import Testing

@testable import BatonRPC

@Suite(.timeLimit(.minutes(1))) struct ProtoJSONTests {
    @Test func wholeNumbersLoseTheirFractionAndNothingElseChanges() {
        let json = #"{"a":7.0,"b":-3.0,"c":1.5,"d":1e+20,"e":"7.0 stays","f":[0.0,10.0,2.25],"g":"q\"7.0"}"#
        let expected = #"{"a":7,"b":-3,"c":1.5,"d":1e+20,"e":"7.0 stays","f":[0,10,2.25],"g":"q\"7.0"}"#
        #expect(String(decoding: ProtoJSON.wholeNumbersWithoutFraction(Array(json.utf8)), as: UTF8.self) == expected)
    }

    @Test func protoMapKeysAreSortedAndNumbersWhole() throws {
        var progress = Baton_V1_Progress()
        progress.attempts = ["zeta": 1, "alpha": 2, "mid": 3]
        progress.percentage = 50
        #expect(try ProtoJSON.string(progress) == #"{"percentage":50,"attempts":{"alpha":2,"mid":3,"zeta":1}}"#)
    }
}
