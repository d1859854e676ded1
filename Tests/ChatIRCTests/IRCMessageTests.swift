import ChatIRC
import XCTest

final class IRCMessageTests: XCTestCase {
    func testParsesTagsSourceCommandAndTrailing() throws {
        let m = try IRCMessage.parse(#"@time=2026-11-25T12:00:00.000Z;msgid=ab\:c\sd :alice!a@h PRIVMSG #lobby :hello there :)"#)
        XCTAssertEqual(m.tag("time"), "2026-11-25T12:00:00.000Z")
        XCTAssertEqual(m.tag("msgid"), "ab;c d")
        XCTAssertEqual(m.source, "alice!a@h")
        XCTAssertEqual(m.sourceNick, "alice")
        XCTAssertEqual(m.command, "PRIVMSG")
        XCTAssertEqual(m.parameters, ["#lobby", "hello there :)"])
        XCTAssertEqual(try IRCMessage.parse("nick  Bob").parameters, ["Bob"])
        XCTAssertEqual(try IRCMessage.parse("nick  Bob").command, "NICK")
        XCTAssertEqual(try IRCMessage.parse("PRIVMSG #a :").parameters, ["#a", ""])
    }

    func testSerialisesWithColonOnlyWhereNeeded() {
        XCTAssertEqual(IRCMessage(source: "s", command: "PRIVMSG", ["#a", "hi there"]).serialized, ":s PRIVMSG #a :hi there\r\n")
        XCTAssertEqual(IRCMessage(command: "JOIN", ["#a"]).serialized, "JOIN #a\r\n")
        XCTAssertEqual(IRCMessage(command: "PRIVMSG", ["#a", ":)"]).serialized, "PRIVMSG #a ::)\r\n")
        XCTAssertEqual(IRCMessage(command: "TOPIC", ["#a", ""]).serialized, "TOPIC #a :\r\n")
        XCTAssertEqual(IRCMessage(command: "696", ["me", "#a", "k", "a b", ":x", "", "Invalid key"]).serialized,
                       "696 me #a k * * * :Invalid key\r\n", "a middle parameter never splits")
        let tagged = IRCMessage(tags: [.init("msgid", "a;b c\\")], command: "PING", ["x"])
        XCTAssertEqual(tagged.serialized, #"@msgid=a\:b\sc\\ PING x"# + "\r\n")
        XCTAssertEqual(try IRCMessage.parse(String(tagged.serialized.dropLast()  /* CR LF is one Character */)), tagged)
    }

    func testRefusesInvalidUTF8AndOtherJunk() {
        XCTAssertThrowsError(try IRCMessage.parse([0x50, 0x52, 0x49, 0x56, 0x4D, 0x53, 0x47, 0x20, 0xC3, 0x28])) {
            XCTAssertEqual($0 as? IRCParseError, .invalidUTF8)
        }
        XCTAssertThrowsError(try IRCMessage.parse("@novalue")) { XCTAssertEqual($0 as? IRCParseError, .badTags) }
        XCTAssertThrowsError(try IRCMessage.parse(":onlysource")) { XCTAssertEqual($0 as? IRCParseError, .noCommand) }
        XCTAssertThrowsError(try IRCMessage.parse("   ")) { XCTAssertEqual($0 as? IRCParseError, .empty) }
        XCTAssertThrowsError(try IRCMessage.parse("CMD " + (1...16).map(String.init).joined(separator: " ")))
    }

    func testRFC1459CaseMapping() {
        XCTAssertEqual(CaseMapping.fold("Nick[1]~\\"), "nick{1}^|")
        XCTAssertEqual(CaseMapping.fold("#LoBBy"), "#lobby")
    }

    func testControlCharactersAreStrippedButFormattingStays() {
        XCTAssertEqual(ChatText.strippingControls("a\u{00}b\u{1B}[31mc\u{7F}\u{02}bold\u{02}\u{03}4red"), "ab[31mc\u{02}bold\u{02}\u{03}4red")
        XCTAssertEqual(ChatText.strippingControls("plain ü"), "plain ü")
    }
}
