import ChatCastSEI
import ChatIRC
import ChatIRCServer
import Foundation
import Locking
import XCTest

final class ClientTests: XCTestCase {
    func testServerAddresses() {
        XCTAssertEqual(IRCServerAddress("irc://127.0.0.1:6668"), IRCServerAddress(host: "127.0.0.1", port: 6668))
        XCTAssertEqual(IRCServerAddress("ircs://chat.example"), IRCServerAddress(host: "chat.example", port: 6697, tls: true))
        XCTAssertEqual(IRCServerAddress("irc://[::1]:7000/"), IRCServerAddress(host: "::1", port: 7000))
        for bad in ["http://x", "irc://", "irc://host:0", "irc://host:notaport", "127.0.0.1:6667"] {
            XCTAssertNil(IRCServerAddress(bad), bad)
        }
    }

    /// Events of a client, collected through its async sequence. Readers get a copy of their
    /// own: an array shared out of the lock would be appended to in place once the reader let
    /// go of it, through reference counts ThreadSanitizer cannot see (make test-tsan).
    final class Collector: Sendable {
        private let events = Mutex<[IRCClientEvent]>([])
        func add(_ e: IRCClientEvent) { events.withLock { $0.append(e) } }
        var all: [IRCClientEvent] { events.withLock { $0.map { $0 } } }
        func count(_ match: (IRCClientEvent) -> Bool) -> Int { events.withLock { $0.filter(match).count } }
    }

    /// A started client whose events the collector gathers; `finish` stops both.
    func collecting(_ options: IRCClient.Options) -> (IRCClient, Collector, () -> Void) {
        let (client, stream) = IRCClient.stream(options: options)
        let events = Collector()
        let reader = Task { for await e in stream { events.add(e) } }
        client.start()
        return (client, events, {
            client.stop()
            reader.cancel()
        })
    }

    func wait(_ what: String, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(15)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertTrue(condition(), "timed out waiting for \(what)")
    }

    func testReconnectsWithBackoffRejoinsAndKeepsWhatWasSentMeanwhile() throws {
        let first = IRCServer(config: IRCServerConfig(), store: InMemoryMessageStore())
        try first.start(host: "127.0.0.1", port: 0)
        let port = first.port
        var options = IRCClient.Options(server: IRCServerAddress(host: "127.0.0.1", port: port), nick: "roamer", rooms: ["lobby"])
        options.echo = true
        options.maxBackoffSeconds = 0.5
        let (client, events, finish) = collecting(options)
        defer { finish() }
        wait("the first join") { events.count { $0 == .joined(room: "lobby") } == 1 }

        try first.stop()
        wait("the disconnect") { events.count { if case .disconnected = $0 { return true } else { return false } } >= 1 }
        client.send(room: "lobby", text: "said while the server was down")
        let second = IRCServer(config: IRCServerConfig(), store: InMemoryMessageStore())
        try second.start(host: "127.0.0.1", port: port)
        defer { try? second.stop() }
        wait("the second join") { events.count { $0 == .joined(room: "lobby") } == 2 }
        wait("the queued line, echoed by the new server") {
            events.count { if case let .message(m, _) = $0 { return m.text == "said while the server was down" } else { return false } } == 1
        }
        XCTAssertEqual(try second.onLoop { $0.nicksInRoom("lobby") }, ["roamer"])
    }

    /// The server's key-frame request (a viewer starts or resumes) reaches the client in the
    /// room as an event; a person's client without message-tags never sees it.
    func testAKeyFrameRequestReachesTheRoomsClientsThatTakeTags() throws {
        let server = IRCServer(config: IRCServerConfig(), store: InMemoryMessageStore())
        try server.start(host: "127.0.0.1", port: 0)
        defer { try? server.stop() }
        let (_, events, finish) = collecting(.init(server: IRCServerAddress(host: "127.0.0.1", port: server.port),
                                                   nick: "camera", rooms: ["stage"]))
        defer { finish() }
        wait("the join") { events.count { $0 == .joined(room: "stage") } == 1 }
        try server.onLoop { $0.requestKeyFrame(room: "other") }
        try server.onLoop { $0.requestKeyFrame(room: "stage") }
        wait("the request") { events.count { $0 == .keyFrameWanted(room: "stage") } == 1 }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(events.count { if case .keyFrameWanted = $0 { return true } else { return false } }, 1, "\(events.all)")
    }

    func testLongTextIsSplitIntoLinesThatFit() {
        let text = String(repeating: "é", count: 450)  // 900 bytes
        let parts = IRCClient.split(text)
        XCTAssertEqual(parts.joined(), text)
        XCTAssertTrue(parts.allSatisfy { $0.utf8.count <= 400 })
        XCTAssertEqual(parts.count, 3)
    }
}
