import ChatCastJSON
import XCTest

final class JSONParserTests: XCTestCase {
    func testParsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"{"a":[1,-2.5,3e2,true,false,null],"b":{"c":"d\n\u00e9\ud83d\ude00"}}"#)
        XCTAssertEqual(value["a"], .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]))
        XCTAssertEqual(value["b"]?["c"], .string("d\né😀"))
    }

    func testRefusesNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        XCTAssertThrowsError(try JSONParser.parse(deep, maxDepth: 32)) { error in
            XCTAssertTrue("\(error)".contains("nested deeper"))
        }
        XCTAssertNoThrow(try JSONParser.parse(String(repeating: "[", count: 32) + String(repeating: "]", count: 32)))
    }

    func testRefusesInvalidUTF8AndLoneSurrogates() {
        XCTAssertThrowsError(try JSONParser.parse(bytes: Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)))
        XCTAssertThrowsError(try JSONParser.parse(#""\ud800""#))
        XCTAssertThrowsError(try JSONParser.parse(#""\udc00x""#))
    }

    func testRefusesMalformedText() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"a", "{} x", "\"\u{01}\"", "{1:2}"] {
            XCTAssertThrowsError(try JSONParser.parse(text), "accepted \(text)")
        }
    }

    func testLargeIntegersPrintWithoutExponent() {
        XCTAssertEqual(JSONWriter.write(.number(3_600_000_033_333_333)), "3600000033333333")
        XCTAssertEqual(JSONWriter.write(.number(1e300)), "1e+300")
        for n: Int64 in [0, 7, -7, 10, -1_000_000, .max, .min, 1_700_000_000_000_000_000] {
            var bytes: [UInt8] = []
            JSONWriter.appendInteger(n, to: &bytes)
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), String(n))
        }
    }

    func testDecimalsParseExactlyAsSwiftDoes() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let integer = String(UInt64.random(in: 0...99_999, using: &rng))
            let fraction = String(UInt64.random(in: 0...9_999_999_999, using: &rng))
            let text = (Bool.random(using: &rng) ? "-" : "") + integer + "." + fraction
            XCTAssertEqual(try JSONParser.parse(text), .number(Double(text)!), text)
        }
        for text in ["0.1", "0.3", "1.7976931348623157", "123456789012345.6", "0.00000000000000000000001", "-0.0", "9.999999999999999"] {
            XCTAssertEqual(try JSONParser.parse(text), .number(Double(text)!), text)
        }
    }

    func testObjectWriterEscapesFieldsLikeTheTreeWriter() throws {
        var o = JSONObjectWriter()
        o.field("text", "é\"<b>\u{07}\u{2029}")
        o.field("n", -42)
        o.field("c", 0.125)
        o.field("pts", UInt64?.none)
        o.field("list", json: JSONObjectWriter.array([Array("1".utf8), Array("{}".utf8)]))
        let text = String(decoding: o.finish(), as: UTF8.self)
        XCTAssertEqual(text, #"{"text":"é\"<b>\u0007\u2029","n":-42,"c":0.125,"pts":null,"list":[1,{}]}"#)
        XCTAssertEqual(try JSONParser.parse(text)["text"], .string("é\"<b>\u{07}\u{2029}"))
    }

    func testWriterEscapesAndRoundTrips() throws {
        let value = JSONValue.object([("text", .string("a\"b\\c\n\u{01}\u{2028}<span>")), ("n", .number(3)),
                                      ("f", .number(0.5)), ("nan", .number(.nan))])
        let text = JSONWriter.write(value)
        XCTAssertEqual(text, #"{"text":"a\"b\\c\n\u0001\u2028<span>","n":3,"f":0.5,"nan":null}"#)
        let back = try JSONParser.parse(text)
        XCTAssertEqual(back["text"], .string("a\"b\\c\n\u{01}\u{2028}<span>"))
    }
}
