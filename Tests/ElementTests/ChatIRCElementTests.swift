import ChatCastSEI
import ChatIRC
import ChatIRCServer
import Foundation
import Locking
import XCTest

/// Records what an IRC client hears, from its event loop, for the test thread (readers get
/// a copy of their own, as ChatIRCTests' Collector explains).
final class Heard: Sendable {
    private let events = Mutex<[IRCClientEvent]>([])
    func add(_ e: IRCClientEvent) { events.withLock { $0.append(e) } }
    var all: [IRCClientEvent] { events.withLock { $0.map { $0 } } }
    var messages: [ChatMessage] { all.compactMap { if case let .message(m, _) = $0 { return m } else { return nil } } }
    var joined: Bool { all.contains { if case .joined = $0 { return true } else { return false } } }
}

func eventually(_ what: String, timeout: TimeInterval = 15, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("timed out waiting for \(what)")
}

/// chatinject and chatsink joined to a room of the embedded IRC server.
final class ChatIRCElementTests: XCTestCase {
    var server: IRCServer!

    override func setUpWithError() throws {
        server = IRCServer(config: IRCServerConfig(), store: InMemoryMessageStore())
        try server.start(host: "127.0.0.1", port: 0)
    }

    override func tearDownWithError() throws { try server.stop() }

    var address: String { "irc://127.0.0.1:\(server.port)" }

    func member(_ nick: String, echo: Bool = true) -> (IRCClient, Heard) {
        let heard = Heard()
        var options = IRCClient.Options(server: IRCServerAddress(address)!, nick: nick, rooms: ["lobby"])
        options.echo = echo
        let client = IRCClient(options: options) { heard.add($0) }
        client.start()
        return (client, heard)
    }

    func roomHas(_ nick: String) throws -> Bool {
        try server.onLoop { core in core.nicksInRoom("lobby").contains(nick) }
    }

    func testChatInjectCarriesEveryPrivmsgOfTheRoomWithTheServersMsgid() throws {
        let dir = NSTemporaryDirectory() + "chatcast-irc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clip = dir + "/clip.mkv"
        // -e: SIGINT ends the recording with EOS once the chat is in, so the file is complete.
        let publisher = try gstLaunchInBackground(["-e", "videotestsrc", "is-live=true", "num-buffers=1800", "!",
                                                   "video/x-raw,format=I420,width=160,height=120,framerate=30/1", "!", "x264enc",
                                                   "tune=zerolatency", "key-int-max=30", "!", "h264parse", "!", "chatinject",
                                                   "server=\(address)", "room=lobby", "nick=cam", "!", "matroskamux", "!",
                                                   "filesink", "location=\(clip)"])
        let (alice, heard) = member("alice")
        defer { alice.stop() }
        try eventually("cam and alice in #lobby") { try roomHas("cam") && heard.joined }
        alice.send(room: "lobby", text: "hello from irc <b>")
        alice.send(room: "lobby", text: "second line")
        try eventually("the echoes") { heard.messages.count == 2 }
        Thread.sleep(forTimeInterval: 1.5)
        publisher.interrupt()
        publisher.waitUntilExit()
        XCTAssertEqual(publisher.terminationStatus, 0)

        let read = try gstLaunch(["filesrc", "location=\(clip)", "!", "matroskademux", "!", "h264parse", "!", "chatparse", "!",
                                  "chatsink"])
        XCTAssertEqual(read.status, 0, read.stderr)
        let lines = read.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        XCTAssertEqual(lines.compactMap { $0["text"] as? String }, ["hello from irc <b>", "second line"])
        XCTAssertEqual(lines.compactMap { $0["nick"] as? String }, ["alice", "alice"])
        XCTAssertEqual(lines.compactMap { $0["id"] as? String }, heard.messages.map(\.id), "ids are the server's msgids")
    }

    func testChatSinkForwardsStreamChatTheRoomDoesNotHaveYet() throws {
        let dir = NSTemporaryDirectory() + "chatcast-fwd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (alice, heard) = member("alice")
        defer { alice.stop() }
        try eventually("alice in #lobby") { heard.joined }
        alice.send(room: "lobby", text: "already in the room")
        try eventually("the echo") { heard.messages.count == 1 }
        let known = heard.messages[0]

        // A clip carrying that message (same id) and one the room has never seen.
        let messages = dir + "/chat.txt", clip = dir + "/clip.mkv"
        let json = #"{"id":"\#(known.id)","nick":"alice","text":"already in the room"}"#
        try (json + "\nbob: only in the stream\n").write(toFile: messages, atomically: true, encoding: .utf8)
        let record = try gstLaunch(["videotestsrc", "num-buffers=30", "!", "video/x-raw,format=I420,width=160,height=120", "!",
                                    "x264enc", "tune=zerolatency", "!", "h264parse", "!", "chatinject", "messages-file=\(messages)", "from-start=true",
                                    "!", "matroskamux", "!", "filesink", "location=\(clip)"])
        XCTAssertEqual(record.status, 0, record.stderr)
        let play = try gstLaunch(["filesrc", "location=\(clip)", "!", "matroskademux", "!", "h264parse", "!", "chatparse", "!",
                                  "chatsink", "server=\(address)", "room=lobby", "nick=relay", "location=\(dir)/out.jsonl"])
        XCTAssertEqual(play.status, 0, play.stderr)
        try eventually("bob's line in the room") { heard.messages.count >= 2 }
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(heard.messages.dropFirst().map(\.text), ["<bob> only in the stream"])
        XCTAssertEqual(heard.messages.last?.nick, "relay")
    }

    func testAnUnusableServerAddressIsAClearError() throws {
        let result = try gstLaunch(["videotestsrc", "num-buffers=1", "!", "x264enc", "!", "h264parse", "!", "chatinject",
                                    "server=http://example", "!", "fakesink"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("server=http://example is not an IRC address"), result.stderr)
    }
}
