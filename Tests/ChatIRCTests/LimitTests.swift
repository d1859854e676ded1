import ChatIRC
import ChatIRCServer
import NIOCore
import XCTest

/// Every input a network can send, answered as specified, and the server stays up.
class LimitTests: XCTestCase {
    /// Every test here runs again over WebSocket (`WebSocketLimitTests`).
    var transport: EmbeddedServer.Transport { .tcp }

    func roomOfTwo(_ server: EmbeddedServer) throws -> (Client, Client) {
        let a = try server.register("sender"), b = try server.register("reader")
        a.send("JOIN #lobby")
        b.send("JOIN #lobby")
        _ = a.read()
        _ = b.read()
        return (a, b)
    }

    func testOverlongLinesAndTextAreRefusedAndTheConnectionCarriesOn() throws {
        let server = EmbeddedServer(transport: transport)
        let (a, b) = try roomOfTwo(server)
        a.send("PRIVMSG #lobby :" + String(repeating: "x", count: 10_000))
        XCTAssertEqual(a.read().commands(), ["417"])
        a.send("PRIVMSG #lobby :" + String(repeating: "y", count: 600))
        XCTAssertEqual(a.read().commands(), ["417"], "over 512 bytes")
        a.send("PRIVMSG #lobby :" + String(repeating: "é", count: 247))
        XCTAssertEqual(a.read().commands(), [], "510 bytes in all: fine")
        a.send("PRIVMSG #lobby :" + String(repeating: "z", count: 490))
        XCTAssertEqual(a.read().commands(), [])
        a.send("@+draft/tag=" + String(repeating: "t", count: 3000) + " PRIVMSG #lobby :tags may add 4096 bytes")
        a.send("PRIVMSG #lobby :still here")
        XCTAssertEqual(b.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1].prefix(5) },
                       ["ééééé", "zzzzz", "tags ", "still"].map { $0.prefix(5) })
    }

    func testTextOverFiveHundredCharactersIsNotDelivered() throws {
        let server = EmbeddedServer(transport: transport)
        let (a, b) = try roomOfTwo(server)
        // With a 512-byte line, 501 characters never fit: the line limit answers first.
        a.send("PRIVMSG #lobby :" + String(repeating: "w", count: 501))
        XCTAssertEqual(a.read().commands(), ["417"])
        XCTAssertTrue(b.read().isEmpty)
    }

    func testInvalidUTF8BinaryJunkNULAndMissingParameters() throws {
        let server = EmbeddedServer(transport: transport)
        let (a, b) = try roomOfTwo(server)
        a.sendRaw(Array("PRIVMSG #lobby :caf".utf8) + [0xE9] + Array("\r\n".utf8))
        XCTAssertEqual(a.read().first?.parameters, ["*", "INVALID_UTF8", "Message rejected: not UTF-8"])
        a.sendRaw((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) } + [10])
        _ = a.read()
        a.sendRaw(Array("PRIVMSG #lobby :nul".utf8) + [0, 0x1B] + Array("[2Jgone\u{07}\r\n".utf8))
        XCTAssertEqual(b.read().first("PRIVMSG")?.parameters.last, "nul[2Jgone", "controls stripped")
        for line in ["JOIN", "PART", "TOPIC", "MODE", "PASS", "CAP", "WHOIS"] {
            a.send(line)
            XCTAssertFalse(a.read().isEmpty, "\(line) got no answer")
        }
        a.send("PRIVMSG #lobby :alive")
        XCTAssertEqual(b.read().first("PRIVMSG")?.parameters.last, "alive")
    }

    func testFloodGetsNoticesThenADisconnect() throws {
        let server = EmbeddedServer(transport: transport) { $0.rateBurst = 5; $0.ratePeriod = .seconds(10); $0.floodDisconnectAfter = 3 }
        let (a, b) = try roomOfTwo(server)
        for i in 1...5 { a.send("PRIVMSG #lobby :\(i)") }
        XCTAssertEqual(b.read().filter { $0.command == "PRIVMSG" }.count, 5, "the burst is delivered")
        a.send("PRIVMSG #lobby :6")
        XCTAssertEqual(a.read().first?.command, "NOTICE")
        XCTAssertTrue(b.read().isEmpty, "excess is not delivered")
        server.advance(.seconds(2))  // one token back: at the boundary, exactly one more goes through
        a.send("PRIVMSG #lobby :7")
        XCTAssertEqual(b.read().first("PRIVMSG")?.parameters.last, "7")
        for i in 8...10 { a.send("PRIVMSG #lobby :\(i)") }
        XCTAssertEqual(a.read().last?.command, "ERROR")
        XCTAssertFalse(a.isOpen, "persistent flooding disconnects")
        XCTAssertEqual(b.read().first("QUIT")?.parameters, ["Excess Flood"])
    }

    func testAClientThatStopsReadingIsDroppedAndOthersCarryOn() throws {
        let server = EmbeddedServer(transport: transport)
        let (a, b) = try roomOfTwo(server)
        let slow = try server.register("slow")
        slow.send("JOIN #lobby")
        _ = a.read()
        _ = b.read()
        // Behind for a moment (a burst): it catches up within the grace period and stays.
        slow.channel.isWritable = false
        slow.channel.pipeline.fireChannelWritabilityChanged()
        server.advance(.milliseconds(500))
        slow.channel.isWritable = true
        slow.channel.pipeline.fireChannelWritabilityChanged()
        server.advance(.seconds(1))
        XCTAssertNil(a.read().first("QUIT"), "a reader that caught up stays")
        // Stopped reading: still over the limit after the grace period, it is dropped.
        slow.channel.isWritable = false
        slow.channel.pipeline.fireChannelWritabilityChanged()
        server.advance(.milliseconds(900))
        XCTAssertNil(a.read().first("QUIT"))
        server.advance(.milliseconds(200))
        XCTAssertEqual(a.read().first("QUIT")?.parameters, ["SendQ exceeded"])
        a.send("PRIVMSG #lobby :still flowing")
        XCTAssertEqual(b.read().first("PRIVMSG")?.parameters.last, "still flowing")
    }

    func testUnregisteredAndSilentClientsTimeOut() throws {
        let server = EmbeddedServer(transport: transport) { $0.registrationTimeout = .seconds(10); $0.pingInterval = .seconds(20); $0.pingTimeout = .seconds(10) }
        let lurker = try server.connect()
        let quiet = try server.register("quiet")
        let chatty = try server.register("chatty")
        server.advance(.seconds(11))
        XCTAssertEqual(lurker.readLines().last, "ERROR :Closing Link: 127.0.0.1 (Registration timed out)")
        server.advance(.seconds(10))
        XCTAssertEqual(quiet.read().last?.command, "PING")
        XCTAssertEqual(chatty.read().last?.command, "PING")
        chatty.send("PONG :test.server")
        server.advance(.seconds(11))
        XCTAssertEqual(quiet.read().last?.parameters.first, "Closing Link: 127.0.0.1 (Ping timeout)")
        XCTAssertTrue(chatty.isOpen)
        XCTAssertTrue(chatty.read().allSatisfy { $0.command != "ERROR" })
    }

    func testConnectionCap() throws {
        let server = EmbeddedServer(transport: transport) { $0.maxConnections = 2 }
        _ = try server.connect()
        _ = try server.connect()
        let third = try server.connect()
        XCTAssertEqual(third.readLines(), ["ERROR :Closing Link: 127.0.0.1 (Server is full)"])
        XCTAssertFalse(third.isOpen)
        XCTAssertEqual(server.core.connectionCount, 2)
    }
}

/// IRC over WebSocket obeys every limit of IRC over TCP: the same tests, through
/// `WebSocketIRCFrames` in front of the same core.
final class WebSocketLimitTests: LimitTests {
    override var transport: EmbeddedServer.Transport { .webSocket }

    // Spelled out: test discovery on Linux finds only the methods a class declares.
    override func testOverlongLinesAndTextAreRefusedAndTheConnectionCarriesOn() throws { try super.testOverlongLinesAndTextAreRefusedAndTheConnectionCarriesOn() }
    override func testTextOverFiveHundredCharactersIsNotDelivered() throws { try super.testTextOverFiveHundredCharactersIsNotDelivered() }
    override func testInvalidUTF8BinaryJunkNULAndMissingParameters() throws { try super.testInvalidUTF8BinaryJunkNULAndMissingParameters() }
    override func testFloodGetsNoticesThenADisconnect() throws { try super.testFloodGetsNoticesThenADisconnect() }
    override func testAClientThatStopsReadingIsDroppedAndOthersCarryOn() throws { try super.testAClientThatStopsReadingIsDroppedAndOthersCarryOn() }
    override func testUnregisteredAndSilentClientsTimeOut() throws { try super.testUnregisteredAndSilentClientsTimeOut() }
    override func testConnectionCap() throws { try super.testConnectionCap() }
}
