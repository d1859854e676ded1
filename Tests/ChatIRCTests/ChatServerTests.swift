import ChatIRC
import ChatIRCServer
import NIOCore
import XCTest

final class RegistrationTests: XCTestCase {
    func testWelcomeBurstWithISUPPORT() throws {
        let server = EmbeddedServer()
        let c = try server.connect()
        c.send("NICK alice")
        c.send("USER alice 0 * :Alice A")
        let replies = c.read()
        XCTAssertEqual(replies.commands(), ["001", "002", "003", "004", "005", "005", "251", "254", "255", "265", "266", "422"])
        XCTAssertEqual(replies[0].parameters.first, "alice")
        XCTAssertTrue(replies.allSatisfy { $0.source == "test.server" }, "replies name the server")
        XCTAssertEqual(replies[3].parameters, ["alice", "test.server", "chatcast-1.0", "iow", "bikWlmnostv", "bklovW"])
        let isupport = replies.filter { $0.command == "005" }.flatMap(\.parameters).joined(separator: " ")
        for token in ["CASEMAPPING=rfc1459", "CHANTYPES=#", "UTF8ONLY", "NICKLEN=30", "PREFIX=(ov)@+", "CHANMODES=b,k,lW,imnst",
                      "NETWORK=ChatCast", "MODES=4", "CHANNELLEN=50", "TARGMAX=", "WHOX", "CHATHISTORY=100"] {
            XCTAssertTrue(isupport.contains(token), isupport)
        }
        XCTAssertTrue(replies.filter { $0.command == "005" }.allSatisfy { $0.parameters.count <= 15 })
    }

    func testCapabilityNegotiationHoldsRegistrationUntilEnd() throws {
        let server = EmbeddedServer()
        let c = try server.connect()
        c.send("CAP LS 302")
        XCTAssertEqual(c.read().first?.parameters, ["*", "LS", "away-notify batch draft/chathistory draft/message-redaction echo-message labeled-response message-tags multi-prefix server-time userhost-in-names"])
        c.send("NICK bob")
        c.send("USER bob 0 * :Bob")
        c.send("CAP REQ :message-tags nonsense")
        XCTAssertEqual(c.read().map { $0.parameters }, [["bob", "NAK", "message-tags nonsense"]], "no welcome before CAP END")
        c.send("CAP REQ :message-tags server-time")
        XCTAssertEqual(c.read().first?.parameters, ["bob", "ACK", "message-tags server-time"])
        c.send("CAP LIST")
        XCTAssertEqual(c.read().first?.parameters, ["bob", "LIST", "message-tags server-time"])
        c.send("CAP END")
        XCTAssertEqual(c.read().first?.command, "001")
    }

    func testStandardErrorNumerics() throws {
        let server = EmbeddedServer()
        let early = try server.connect()
        early.send("JOIN #lobby")
        XCTAssertEqual(early.read().commands(), ["451"])
        early.send("NICK")
        XCTAssertEqual(early.read().commands(), ["431"])
        early.send("NICK 9lives")
        XCTAssertEqual(early.read().commands(), ["432"])
        early.send("USER onlyone")
        XCTAssertEqual(early.read().commands(), ["461"])
        early.send("USER someone 0 * :")
        XCTAssertEqual(early.read().commands(), ["461"], "an empty real name")

        _ = try server.register("Nick[1]")
        let c = try server.register("carol")
        c.send("NICK nick{1}")
        XCTAssertEqual(c.read().commands(), ["433"], "RFC 1459 case mapping: [ and { are one letter")
        c.send("FROBNICATE x")
        XCTAssertEqual(c.read().first?.parameters, ["carol", "FROBNICATE", "Unknown command"])
        c.send("PRIVMSG")
        XCTAssertEqual(c.read().commands(), ["411"])
        c.send("PRIVMSG #lobby")
        XCTAssertEqual(c.read().commands(), ["412"])
        c.send("PRIVMSG nobody :hi")
        XCTAssertEqual(c.read().commands(), ["401"])
        c.send("PRIVMSG #nowhere :hi")
        XCTAssertEqual(c.read().commands(), ["403"])
        c.send("PART #nowhere")
        XCTAssertEqual(c.read().commands(), ["403"])
        c.send("JOIN bad,name")
        XCTAssertEqual(c.read().commands(), ["403", "403"])
        c.send("USER again 0 * :x")
        XCTAssertEqual(c.read().commands(), ["462"])
        c.send("NOTICE nobody :notices never get errors")
        XCTAssertEqual(c.read().commands(), [])
        c.send("PING :token")
        XCTAssertEqual(c.read().first?.parameters, ["test.server", "token"])
    }

    func testServerPasswordIsRequired() throws {
        let server = EmbeddedServer { $0.password = "sesame" }
        let wrong = try server.connect()
        wrong.send("PASS nope")
        wrong.send("NICK eve")
        wrong.send("USER eve 0 * :Eve")
        let replies = wrong.read()
        XCTAssertEqual(replies.commands(), ["464", "ERROR"])
        XCTAssertFalse(wrong.isOpen)
        _ = try server.register("alice", password: "sesame")
    }
}

final class RoomTests: XCTestCase {
    func testJoinTalkAndPartWithTagsPerCapability() throws {
        let server = EmbeddedServer()
        let alice = try server.register("alice", caps: ["message-tags", "server-time", "echo-message"])
        let bob = try server.register("bob", caps: ["server-time"])
        let carol = try server.register("carol")
        for c in [alice, bob, carol] {
            c.send("JOIN #lobby")
            _ = c.read()
        }
        _ = alice.read()
        _ = bob.read()
        alice.send("PRIVMSG #lobby :hello <b>all</b>")
        let echo = try XCTUnwrap(alice.read().first("PRIVMSG"))
        XCTAssertEqual(echo.parameters, ["#lobby", "hello <b>all</b>"])
        XCTAssertNotNil(echo.tag("msgid"))
        XCTAssertNotNil(echo.tag("time"))
        let atBob = try XCTUnwrap(bob.read().first("PRIVMSG"))
        XCTAssertEqual(atBob.tags.map(\.key), ["time"], "server-time only")
        XCTAssertEqual(atBob.source, "alice!alice@127.0.0.1")
        let atCarol = try XCTUnwrap(carol.read().first("PRIVMSG"))
        XCTAssertEqual(atCarol.tags, [], "no capabilities, no tags")
        bob.send("PRIVMSG #lobby :no echo for me")
        XCTAssertNil(bob.read().first("PRIVMSG"))
        carol.send("PART #lobby :bye")
        XCTAssertEqual(alice.read().first("PART")?.parameters, ["#lobby", "bye"])
        _ = carol.read()
        carol.send("PRIVMSG #lobby :I left")
        XCTAssertEqual(carol.read().commands(), ["404"])
        carol.send("PART #lobby")
        XCTAssertEqual(carol.read().commands(), ["442"])
    }

    func testNamesWhoModeAndTopicRules() throws {
        let server = EmbeddedServer { $0.publisherPassword = "pub" }
        let publisher = try server.register("cam", password: "pub")
        let viewer = try server.register("viewer")
        publisher.send("JOIN #lobby")
        _ = publisher.read()
        viewer.send("JOIN #lobby")
        let joined = viewer.read()
        XCTAssertEqual(joined.commands(), ["JOIN", "353", "366"])
        XCTAssertEqual(joined[1].parameters.last, "@cam viewer")
        publisher.send("TOPIC #lobby :rtsp://127.0.0.1:8554/lobby")
        XCTAssertEqual(viewer.read().first("TOPIC")?.parameters, ["#lobby", "rtsp://127.0.0.1:8554/lobby"])
        viewer.send("TOPIC #lobby :rtsp://evil/")
        XCTAssertEqual(viewer.read().commands(), ["482"], "only the publisher sets the stream URL")
        viewer.send("TOPIC #lobby")
        XCTAssertEqual(viewer.read().first("332")?.parameters.last, "rtsp://127.0.0.1:8554/lobby")
        viewer.send("WHO #lobby")
        XCTAssertEqual(viewer.read().commands(), ["352", "352", "315"])
        viewer.send("MODE #lobby")
        XCTAssertEqual(viewer.read().commands(), ["324", "329"])
        viewer.send("MODE #lobby b")
        XCTAssertEqual(viewer.read().commands(), ["368"])
        viewer.send("MODE #lobby +o viewer")
        XCTAssertEqual(viewer.read().commands(), ["482"])
        viewer.send("MODE viewer")
        XCTAssertEqual(viewer.read().first?.parameters, ["viewer", "+i"])
    }

    func testServerSideTopicReachesRoomsBeforeAnyoneJoins() throws {
        let server = EmbeddedServer()
        server.core.setTopic(room: "stage", to: "rtsp://127.0.0.1:8554/stage")
        let c = try server.register("dave")
        c.send("TOPIC #stage")
        XCTAssertEqual(c.read().first?.parameters.last, "rtsp://127.0.0.1:8554/stage")
        c.send("JOIN #stage")
        XCTAssertEqual(c.read().first("332")?.parameters.last, "rtsp://127.0.0.1:8554/stage")
        server.core.setTopic(room: "stage", to: nil)
        XCTAssertEqual(c.read().first("TOPIC")?.parameters, ["#stage", ""])
    }

    /// "Play Video" viewers join, read the URL and leave: the last one out, by PART, QUIT or
    /// a dropped connection, must not take the stream's URL with it.
    func testTheStreamURLOutlivesViewersWhoLeaveAnEmptyRoom() throws {
        let server = EmbeddedServer()
        server.core.setTopic(room: "clock", to: "rtsp://127.0.0.1:8554/clock")
        for (n, leaving) in ["PART #clock", "QUIT :bye", nil].enumerated() {
            let viewer = try server.register("viewer\(n)")
            viewer.send("JOIN #clock")
            XCTAssertEqual(viewer.read().first("332")?.parameters.last, "rtsp://127.0.0.1:8554/clock", "\(leaving ?? "hang-up")")
            if let leaving { viewer.send(leaving) } else { try viewer.channel.close().wait() }
            _ = viewer.read()
            let next = try server.register("next\(n)")
            next.send("JOIN #clock")
            XCTAssertEqual(next.read().first("332")?.parameters.last, "rtsp://127.0.0.1:8554/clock", "after \(leaving ?? "hang-up")")
            next.send("QUIT")
            _ = next.read()
        }
        let user = try server.register("owner", password: nil)
        user.send("JOIN #plain")
        user.send("QUIT")
        let later = try server.register("later")
        later.send("JOIN #plain")
        XCTAssertNil(later.read().first("332"), "a room nobody announced has no topic")
    }

    /// Key-frame requests go to the room's members that took message-tags (the elements),
    /// as TAGMSG from the server, at most one per 100 ms; people's clients get nothing.
    func testKeyFrameRequestsReachTaggedMembersAtMostEvery100ms() throws {
        let server = EmbeddedServer()
        let camera = try server.register("camera", caps: ["message-tags"])
        let person = try server.register("person")
        camera.send("JOIN #stage")
        person.send("JOIN #stage")
        _ = camera.read()
        _ = person.read()
        server.core.requestKeyFrame(room: "stage")
        let request = camera.read()
        XCTAssertEqual(request.map(\.command), ["TAGMSG"])
        XCTAssertEqual(request.first?.parameters, ["#stage"])
        XCTAssertEqual(request.first?.tag("+chatcast/keyframe"), "")
        XCTAssertEqual(person.read().map(\.command), [], "a client without message-tags is not bothered")
        server.core.requestKeyFrame(room: "stage")
        XCTAssertEqual(camera.read().map(\.command), [], "one request answers viewers arriving together")
        server.advance(.milliseconds(150))
        _ = camera.read()  // whatever the timers sent
        server.core.requestKeyFrame(room: "stage")
        XCTAssertEqual(camera.read().map(\.command), ["TAGMSG"])
        server.core.requestKeyFrame(room: "nowhere")  // no such room: nothing, no crash
    }

    func testNickChangeIsSeenByTheRoom() throws {
        let server = EmbeddedServer()
        let a = try server.register("ann"), b = try server.register("ben")
        a.send("JOIN #x")
        b.send("JOIN #x")
        _ = a.read()
        _ = b.read()
        a.send("NICK anna")
        XCTAssertEqual(b.read().first("NICK")?.source, "ann!ann@127.0.0.1")
        XCTAssertEqual(a.read().first("NICK")?.parameters, ["anna"])
        b.send("PRIVMSG anna :direct")
        XCTAssertEqual(a.read().first("PRIVMSG")?.parameters, ["anna", "direct"])
    }
}

final class HistoryTests: XCTestCase {
    func testJoinReplaysTheLastFiftyAsABatchOrPlainMessages() throws {
        let server = EmbeddedServer { $0.rateBurst = 1000 }
        let talker = try server.register("talker")
        talker.send("JOIN #lobby")
        for i in 1...60 { talker.send("PRIVMSG #lobby :message \(i)") }
        _ = talker.read()

        let batched = try server.register("late", caps: ["batch", "server-time", "message-tags"])
        batched.send("JOIN #lobby")
        let replay = batched.read()
        let start = try XCTUnwrap(replay.first("BATCH"))
        XCTAssertEqual(Array(start.parameters.dropFirst()), ["chathistory", "#lobby"])
        let reference = String(start.parameters[0].dropFirst())
        let messages = replay.filter { $0.command == "PRIVMSG" }
        XCTAssertEqual(messages.map { $0.parameters[1] }, (11...60).map { "message \($0)" })
        XCTAssertTrue(messages.allSatisfy { $0.tag("batch") == reference && $0.tag("time") != nil && $0.tag("msgid") != nil })
        XCTAssertEqual(replay.last?.parameters, ["-" + reference])

        let plain = try server.register("plain", caps: ["server-time"])
        plain.send("JOIN #lobby")
        let lines = plain.read().filter { $0.command == "PRIVMSG" }
        XCTAssertEqual(lines.count, 50)
        XCTAssertEqual(lines.first?.tags.map(\.key), ["time"])
        XCTAssertEqual(lines.first?.source, "talker!talker@127.0.0.1")
    }

    func testSQLiteHistorySurvivesANewServer() throws {
        let dir = NSTemporaryDirectory() + "chatcast-history-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try SQLiteMessageStore(directory: dir)
            let server = EmbeddedServer(store: store)
            let a = try server.register("a")
            a.send("JOIN #Keep")
            a.send("PRIVMSG #keep :persisted ü")
            store.flush()
        }
        let again = EmbeddedServer(store: try SQLiteMessageStore(directory: dir))
        let b = try again.register("b")
        b.send("JOIN #keep")
        XCTAssertEqual(b.read().first("PRIVMSG")?.parameters, ["#keep", "persisted ü"])
    }
}
