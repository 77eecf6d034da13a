import BatonCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct HexTests {
    @Test func roundTripsAndRefusesWhatIsNotHex() {
        #expect(Hex.encode([0x00, 0x0f, 0xab, 0xff]) == "000fabff")
        #expect(Hex.decode("000fABff") == [0x00, 0x0f, 0xab, 0xff])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
