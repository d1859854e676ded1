import ChatIRC
import ChatIRCServer
import NIOCore
import XCTest

/// WHO/WHOX, WHOIS, WHOWAS, AWAY, LUSERS, MOTD, TIME, INFO, VERSION, PING.
final class QueryTests: XCTestCase {
    func testWhoAndWhox() throws {
        let server = EmbeddedServer()
        let alice = try server.register("alice"), bob = try server.register("bob")
        alice.send("JOIN #r"); bob.send("JOIN #r")
        _ = alice.read(); _ = bob.read()
        bob.send("WHO #r %tcnfr,42")
        let lines = bob.read()
        XCTAssertEqual(lines.commands(), ["354", "354", "315"])
        XCTAssertEqual(lines[0].parameters, ["bob", "42", "#r", "alice", "H@", "alice Example"])
        bob.send("WHO alice %nuhs")
        XCTAssertEqual(bob.read().first?.parameters, ["bob", "alice", "127.0.0.1", "test.server", "alice"], "fields in WHOX order: u h s n")
        bob.send("WHO alice")
        XCTAssertEqual(bob.read().first?.parameters, ["bob", "*", "alice", "127.0.0.1", "test.server", "alice", "H", "0 alice Example"])
        bob.send("WHO a*")
        XCTAssertEqual(bob.read().filter { $0.command == "352" }.map { $0.parameters[5] }, ["alice"], "a mask over shared rooms")
        bob.send("WHO")
        XCTAssertEqual(bob.read().last?.command, "315")
        bob.send("WHO #nowhere %n")
        XCTAssertEqual(bob.read().commands(), ["315"])
        bob.send("WHO #r %")
        XCTAssertEqual(bob.read().commands(), ["354", "354", "315"], "no fields, no crash")
    }

    func testWhoisWhowasAndAway() throws {
        let server = EmbeddedServer { $0.whowasEntries = 3 }
        let alice = try server.register("alice", caps: ["away-notify"]), bob = try server.register("bob")
        alice.send("JOIN #r"); bob.send("JOIN #r")
        _ = alice.read(); _ = bob.read()
        bob.send("AWAY :lunch")
        XCTAssertEqual(bob.read().commands(), ["306"])
        XCTAssertEqual(alice.read().first("AWAY")?.parameters, ["lunch"], "away-notify")
        alice.send("PRIVMSG bob :there?")
        XCTAssertEqual(alice.read().first("301")?.parameters, ["alice", "bob", "lunch"])
        alice.send("USERHOST bob alice")
        XCTAssertEqual(alice.read().first?.parameters.last, "bob=-bob@127.0.0.1 alice=+alice@127.0.0.1", "- for away")
        alice.send("NAMES #r,#nowhere")
        XCTAssertEqual(alice.read().map { $0.command + " " + $0.parameters.dropFirst().joined(separator: " ") },
                       ["353 = #r @alice bob", "366 #r,#nowhere End of /NAMES list"])
        alice.send("WHOIS bob")
        let whois = alice.read()
        XCTAssertEqual(whois.commands(), ["311", "319", "312", "301", "317", "318"])
        XCTAssertEqual(whois[1].parameters.last, "#r")
        XCTAssertEqual(whois[2].parameters, ["alice", "bob", "test.server", "ChatCast"])
        bob.send("WHO #r")
        XCTAssertEqual(bob.read().filter { $0.command == "352" }.map { $0.parameters[6] }, ["H@", "G"])
        bob.send("JOIN #second")
        alice.send("JOIN #second")
        _ = alice.read()
        bob.send("PART #second")
        XCTAssertEqual(alice.read().commands(), ["PART"])
        bob.send("JOIN #second")
        XCTAssertEqual(alice.read().commands(), ["JOIN", "AWAY"], "an away member joining is announced as away")
        _ = bob.read()
        bob.send("AWAY")
        XCTAssertEqual(bob.read().commands(), ["305"])
        XCTAssertEqual(alice.read().first("AWAY")?.parameters, [])
        alice.send("WHOIS nobody")
        XCTAssertEqual(alice.read().commands(), ["401", "318"])
        alice.send("WHOIS")
        XCTAssertEqual(alice.read().commands(), ["431"])

        for n in 1...5 { bob.send("NICK bob\(n)") }
        _ = bob.read(); _ = alice.read()
        alice.send("WHOWAS bob4")
        let was = alice.read()
        XCTAssertEqual(was.commands(), ["314", "312", "369"])
        XCTAssertEqual(was[0].parameters.prefix(4), ["alice", "bob4", "bob", "127.0.0.1"])
        for gone in ["bob", "bob1"] {
            alice.send("WHOWAS \(gone)")
            XCTAssertEqual(alice.read().commands(), ["406", "369"], "bounded to 3 entries: the oldest went")
        }
        alice.send("WHOWAS bob2,bob3")
        XCTAssertEqual(alice.read().commands(), ["314", "312", "369", "314", "312", "369"])
        alice.send("WHOWAS")
        XCTAssertEqual(alice.read().commands(), ["431"])
    }

    func testServerInformationAndPing() throws {
        let server = EmbeddedServer { $0.motd = ["Welcome", "Be nice"] }
        let c = try server.connect()
        c.send("NICK alice")
        c.send("USER alice 0 * :Alice")
        let burst = c.read()
        XCTAssertEqual(burst.filter { $0.command == "372" }.map { $0.parameters.last }, ["- Welcome", "- Be nice"])
        c.send("LUSERS")
        let lusers = c.read()
        XCTAssertEqual(lusers.commands(), ["251", "254", "255", "265", "266"])
        XCTAssertEqual(lusers[0].parameters.last, "There are 1 users and 0 invisible on 1 servers")
        c.send("MOTD")
        XCTAssertEqual(c.read().commands(), ["375", "372", "372", "376"])
        c.send("TIME")
        XCTAssertEqual(c.read().first?.parameters.prefix(2), ["alice", "test.server"])
        c.send("INFO")
        XCTAssertEqual(c.read().last?.command, "374")
        c.send("VERSION")
        let version = c.read()
        XCTAssertEqual(version.first?.parameters.prefix(3), ["alice", "chatcast-1.0", "test.server"])
        XCTAssertTrue(version.contains { $0.command == "005" })
        c.send("PING :")
        XCTAssertEqual(c.read().first?.parameters, ["test.server", ""], "an empty token is echoed")
        c.send("PING")
        XCTAssertEqual(c.read().commands(), ["409"])
        XCTAssertTrue(c.isOpen)
    }
}

/// Client-only tags, TAGMSG, echo-message variants and labeled-response.
final class TagTests: XCTestCase {
    func testClientTagsAndTagmsgReachMessageTagsClientsOnly() throws {
        let server = EmbeddedServer()
        let alice = try server.register("alice", caps: ["message-tags", "echo-message"])
        let bob = try server.register("bob", caps: ["message-tags"]), carol = try server.register("carol")
        for c in [alice, bob, carol] { c.send("JOIN #r") }
        for c in [alice, bob, carol] { _ = c.read() }
        alice.send("@+draft/react=👍;+example.com/x=y;server=forged PRIVMSG #r :tagged")
        let atBob = try XCTUnwrap(bob.read().first("PRIVMSG"))
        XCTAssertEqual(atBob.tag("+draft/react"), "👍")
        XCTAssertEqual(atBob.tag("+example.com/x"), "y")
        XCTAssertNil(atBob.tag("server"), "only client-only tags are relayed")
        XCTAssertEqual(carol.read().first("PRIVMSG")?.tags, [])
        XCTAssertEqual(alice.read().first("PRIVMSG")?.tag("+draft/react"), "👍", "the echo has them too")
        alice.send("@+typing=active TAGMSG #r")
        XCTAssertEqual(bob.read().first("TAGMSG")?.tag("+typing"), "active")
        XCTAssertTrue(carol.read().isEmpty, "no message-tags, no TAGMSG")
        XCTAssertEqual(alice.read().first("TAGMSG")?.tag("+typing"), "active", "echo-message echoes TAGMSG")
        alice.send("@+typing=active TAGMSG bob")
        XCTAssertEqual(bob.read().first("TAGMSG")?.parameters, ["bob"])
        XCTAssertEqual(alice.read().first("TAGMSG")?.parameters, ["bob"], "echo of a private TAGMSG")
        alice.send("TAGMSG #r")
        alice.send("TAGMSG")
        XCTAssertEqual(alice.read().commands(), ["411"], "a TAGMSG without tags is dropped")
        alice.send("PRIVMSG bob :direct")
        XCTAssertEqual(alice.read().first("PRIVMSG")?.parameters, ["bob", "direct"], "echo of a private message")
        // A client without message-tags cannot send client tags.
        carol.send("@+x=y PRIVMSG #r :plain")
        XCTAssertNil(bob.read().first("PRIVMSG")?.tag("+x"))
    }

    func testLabeledResponses() throws {
        let server = EmbeddedServer()
        let c = try server.register("alice", caps: ["labeled-response", "batch", "message-tags", "echo-message"])
        c.send("@label=one PING :x")
        let pong = c.read()
        XCTAssertEqual(pong.commands(), ["PONG"])
        XCTAssertEqual(pong[0].tag("label"), "one")
        c.send("@label=two JOIN #r")
        let joined = c.read()
        XCTAssertEqual(joined.first?.command, "BATCH")
        XCTAssertEqual(joined.first?.tag("label"), "two")
        XCTAssertEqual(joined.first?.parameters.last, "labeled-response")
        let id = String(joined.first!.parameters[0].dropFirst())
        XCTAssertTrue(joined.dropFirst().dropLast().allSatisfy { $0.tag("batch") == id })
        XCTAssertEqual(joined.last?.parameters, ["-" + id])
        c.send("@label=three PONG :x")
        XCTAssertEqual(c.read().first?.command, "ACK")
        XCTAssertEqual(c.read().count, 0)
        c.send("@label=four PRIVMSG #r :hi")
        let echo = c.read()
        XCTAssertEqual(echo.commands(), ["PRIVMSG"], "the echo is the reply: no ACK")
        XCTAssertEqual(echo.first?.tag("label"), "four")
        c.send("@label=five PRIVMSG alice :to myself")
        let toSelf = c.read()
        XCTAssertEqual(toSelf.commands(), ["PRIVMSG", "PRIVMSG"], "the delivery and the echo, no batch")
        XCTAssertEqual(toSelf.map { $0.tag("label") }, [nil, "five"], "only the echo answers the label")
        c.send("@label= PING x")
        XCTAssertEqual(c.read().first?.parameters.prefix(2), ["PING", "INVALID_LABEL"])
        c.send("@label=\(String(repeating: "l", count: 65)) PING x")
        XCTAssertEqual(c.read().first?.parameters.prefix(2), ["PING", "INVALID_LABEL"])
        let plain = try server.register("plain")
        plain.send("@label=x PING :y")
        XCTAssertNil(plain.read().first?.tag("label"), "no capability, no label")
    }
}

/// draft/chathistory on the in-memory store and on SQLite: the same selections.
final class ChatHistoryTests: XCTestCase {
    func messages(_ n: Int) -> [StoredMessage] {
        (1...n).map { StoredMessage(msgid: "m\($0)", channel: "#r", time: String(format: "2026-11-25T12:%02d:00.000Z", $0),
                                    source: "a!a@h", text: "text \($0)") }
    }

    func testSelectorsOnMemoryAndSQLiteAgree() throws {
        let dir = NSTemporaryDirectory() + "chatcast-ch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sqlite = try SQLiteMessageStore(directory: dir)
        let memory = InMemoryMessageStore()
        for m in messages(20) {
            sqlite.append(m) { _ in }
            memory.append(m) { _ in }
        }
        sqlite.flush()
        typealias Q = HistoryQuery
        let cases: [(Q, [Int])] = [
            (.latest(after: nil, limit: 3), [18, 19, 20]),
            (.latest(after: .msgid("m17"), limit: 10), [18, 19, 20]),
            (.latest(after: .time("2026-11-25T12:17:00.000Z"), limit: 10), [18, 19, 20]),
            (.before(.msgid("m5"), limit: 2), [3, 4]),
            (.before(.time("2026-11-25T12:05:30.000Z"), limit: 2), [4, 5]),
            (.after(.msgid("m5"), limit: 2), [6, 7]),
            (.after(.time("2026-11-25T12:05:00.000Z"), limit: 2), [6, 7]),
            (.between(.msgid("m3"), .msgid("m7"), limit: 10), [4, 5, 6]),
            (.between(.msgid("m7"), .msgid("m3"), limit: 2), [5, 6]),
            (.between(.msgid("m3"), .msgid("m7"), limit: 2), [4, 5]),
            (.around(.msgid("m10"), limit: 5), [8, 9, 10, 11, 12]),
            (.around(.msgid("m1"), limit: 3), [1, 2, 3]),
            (.before(.msgid("unknown"), limit: 5), []),
            (.latest(after: nil, limit: 0), []),
        ]
        for (query, expected) in cases {
            let want = expected.map { "m\($0)" }
            XCTAssertEqual(query.select(from: messages(20)).map(\.msgid), want, "\(query)")
            let done = expectation(description: "\(query)")
            sqlite.history(channelKey: "#r", query) { result in
                XCTAssertEqual((try? result.get())?.map(\.msgid), want, "SQLite \(query)")
                done.fulfill()
            }
            wait(for: [done], timeout: 5)
        }
    }

    func testChathistoryCommand() throws {
        let server = EmbeddedServer()
        let a = try server.register("a", caps: ["batch", "message-tags", "draft/chathistory"])
        a.send("JOIN #r")
        for i in 1...10 { a.send("PRIVMSG #r :line \(i)") }
        let ids = a.read().filter { $0.command == "PRIVMSG" }.map { $0.tag("msgid") }
        XCTAssertTrue(ids.isEmpty, "no echo-message")
        a.send("CHATHISTORY LATEST #r * 3")
        let latest = a.read()
        XCTAssertEqual(latest.commands(), ["BATCH", "PRIVMSG", "PRIVMSG", "PRIVMSG", "BATCH"])
        XCTAssertEqual(latest[0].parameters.dropFirst(), ["chathistory", "#r"])
        XCTAssertEqual(latest.filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] }, ["line 8", "line 9", "line 10"])
        let eighth = try XCTUnwrap(latest[1].tag("msgid"))
        a.send("CHATHISTORY BEFORE #r msgid=\(eighth) 2")
        XCTAssertEqual(a.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] }, ["line 6", "line 7"])
        a.send("CHATHISTORY AFTER #r msgid=\(eighth) 999")
        XCTAssertEqual(a.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] }, ["line 9", "line 10"])
        a.send("CHATHISTORY AROUND #r msgid=\(eighth) 3")
        XCTAssertEqual(a.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] }, ["line 7", "line 8", "line 9"])
        a.send("CHATHISTORY BETWEEN #r timestamp=2000-01-01T00:00:00.000Z msgid=\(eighth) 2")
        XCTAssertEqual(a.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] }, ["line 1", "line 2"])
        for bad in ["CHATHISTORY", "CHATHISTORY LATEST #r *", "CHATHISTORY LATEST #r * 0", "CHATHISTORY LATEST #r * 99999999999999999999",
                    "CHATHISTORY BEFORE #r nonsense 5", "CHATHISTORY BEFORE #r timestamp=yesterday 5", "CHATHISTORY FROB #r * 5",
                    "CHATHISTORY LATEST #elsewhere * 5", "CHATHISTORY LATEST nobody * 5", "CHATHISTORY BETWEEN #r * * 5"] {
            a.send(bad)
            let reply = a.read()
            XCTAssertEqual(reply.count, 1, bad)
            XCTAssertTrue(["FAIL", "461"].contains(reply.first?.command ?? ""), "\(bad): \(reply)")
        }
        let b = try server.register("b", caps: ["batch"])
        a.send("CHATHISTORY LATEST b * 5")
        XCTAssertEqual(a.read().commands(), ["BATCH", "BATCH"], "private messages are not kept")
        _ = b
    }
}

/// OPER from the config (plain and hashed passwords), KILL, WALLOPS.
final class OperatorTests: XCTestCase {
    func testSHA256AndHashes() {
        XCTAssertEqual(ServerOperators.hash("", salt: "").count, "sha256$$".count + 64)
        // Python: b = sha256(salt + pw); 9999 times b = sha256(b + salt) — checks the SHA-256 itself.
        XCTAssertEqual(ServerOperators.hash("secret", salt: "pepper"),
                       "sha256$pepper$4669a6b3906192e01e2dd8604563f469216d78f10e4d691e3ef49b259862f9ea")
        XCTAssertTrue(ServerOperators.check("secret", against: ServerOperators.hash("secret", salt: "pepper")))
        XCTAssertFalse(ServerOperators.check("Secret", against: ServerOperators.hash("secret", salt: "pepper")))
        XCTAssertTrue(ServerOperators.check("plain", against: "plain"))
        XCTAssertFalse(ServerOperators.check("plain ", against: "plain"))
    }

    func testOperKillAndWallops() throws {
        let hashed = ServerOperators.hash("hunter2", salt: "s1")
        let server = EmbeddedServer { $0.operators = ["root": hashed, "plain": "pw"] }
        let root = try server.register("root"), victim = try server.register("victim"), watcher = try server.register("watcher")
        root.send("KILL victim")
        XCTAssertEqual(root.read().commands(), ["481"])
        root.send("WALLOPS :hi")
        XCTAssertEqual(root.read().commands(), ["481"])
        root.send("OPER root wrong")
        XCTAssertEqual(root.read().commands(), ["464"])
        root.send("OPER nobody hunter2")
        XCTAssertEqual(root.read().commands(), ["491"])
        root.send("OPER root")
        XCTAssertEqual(root.read().commands(), ["461"])
        root.send("OPER root hunter2")
        let opered = root.read()
        XCTAssertEqual(opered.commands(), ["381", "MODE"])
        XCTAssertEqual(opered[1].parameters, ["root", "+ow"])
        root.send("MODE root")
        XCTAssertEqual(root.read().first?.parameters, ["root", "+iow"])
        watcher.send("MODE watcher +w")
        XCTAssertEqual(watcher.read().first?.parameters, ["watcher", "+w"])
        root.send("WALLOPS :maintenance at noon")
        XCTAssertEqual(watcher.read().first("WALLOPS")?.parameters, ["maintenance at noon"])
        XCTAssertEqual(root.read().first("WALLOPS")?.source, "root!root@127.0.0.1")
        XCTAssertTrue(victim.read().isEmpty, "no +w, no WALLOPS")
        watcher.send("WHOIS root")
        XCTAssertTrue(watcher.read().contains { $0.command == "313" })
        root.send("KILL nobody :x")
        XCTAssertEqual(root.read().commands(), ["401"])
        root.send("KILL victim :spamming")
        let killed = victim.read()
        XCTAssertEqual(killed.commands(), ["KILL", "ERROR"])
        XCTAssertFalse(victim.isOpen)
        root.send("MODE root -o")
        XCTAssertEqual(root.read().first?.parameters, ["root", "-o"])
        root.send("KILL watcher")
        XCTAssertEqual(root.read().commands(), ["481"])
    }
}
