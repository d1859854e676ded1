import ChatIRC
import ChatIRCServer
import Foundation
import NIOCore
import XCTest

/// History reads happen off the event loop: a slow read holds up nothing but its own
/// room's replay, and chat said while it is in flight is neither lost nor shown twice.
final class HistoryLoadTests: XCTestCase {
    /// An in-memory store whose reads of the chosen rooms answer only when the test says.
    final class GatedStore: MessageStore, @unchecked Sendable {
        let inner = InMemoryMessageStore()
        let gated: Set<String>
        var held: [() -> Void] = []
        init(gated: Set<String>) { self.gated = gated }
        func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
            inner.append(message, completion: completion)
        }
        func history(channelKey: String, _ query: HistoryQuery, completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
            guard gated.contains(channelKey) else { return inner.history(channelKey: channelKey, query, completion: completion) }
            // Read when released, as a read that started late would: it sees what was stored meanwhile.
            held.append { self.inner.history(channelKey: channelKey, query, completion: completion) }
        }
        func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
            inner.redact(channelKey: channelKey, msgid: msgid, completion: completion)
        }
        func release() {
            let now = held
            held = []
            for read in now { read() }
        }
    }

    func old(_ n: Int) -> StoredMessage {
        StoredMessage(msgid: "old\(n)", channel: "#slow", time: "2026-11-25T11:00:0\(n).000Z", source: "ghost!g@h", text: "old \(n)")
    }

    func testASlowReadDelaysNoOtherRoomAndLosesOrRepeatsNothingSaidMeanwhile() throws {
        let store = GatedStore(gated: ["#slow"])
        for n in 1...2 { store.inner.append(old(n)) { _ in } }
        let server = EmbeddedServer(store: store, waitForStore: false)
        let alice = try server.register("alice", caps: ["echo-message", "batch", "message-tags"])
        let bob = try server.register("bob")
        let carol = try server.register("carol")
        let dave = try server.register("dave")

        alice.send("JOIN #slow")
        XCTAssertEqual(store.held.count, 1, "the first JOIN reads history")
        bob.send("JOIN #slow")
        XCTAssertEqual(store.held.count, 1, "a second JOIN while loading waits on the same read")
        _ = alice.read(); _ = bob.read()
        alice.send("PRIVMSG #slow :said while loading")
        bob.send("PRIVMSG #slow :bob too")
        XCTAssertTrue(alice.read().filter { $0.command == "PRIVMSG" }.isEmpty, "held until the replay")
        XCTAssertTrue(bob.read().filter { $0.command == "PRIVMSG" }.isEmpty, "held until the replay")

        // Another room is not held up by the read in flight.
        carol.send("JOIN #fast"); dave.send("JOIN #fast")
        _ = carol.read()
        dave.send("PRIVMSG #fast :quick")
        XCTAssertEqual(carol.read().first("PRIVMSG")?.parameters, ["#fast", "quick"])

        store.release()
        server.core.flushWrites()
        let texts = { (c: Client) in c.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] } }
        // Alice: the history, then what was said; her own line waited for her replay and its
        // echo for the store, so bob's (handled right after hers) comes first.
        XCTAssertEqual(texts(alice), ["old 1", "old 2", "bob too", "said while loading"])
        XCTAssertEqual(texts(bob), ["old 1", "old 2", "said while loading"], "bob has no echo-message")
        // From memory now: a later JOIN reads nothing and sees everything once.
        let erin = try server.register("erin")
        erin.send("JOIN #slow")
        XCTAssertEqual(store.held.count, 0)
        XCTAssertEqual(texts(erin), ["old 1", "old 2", "said while loading", "bob too"])
        alice.send("PRIVMSG #slow :after")
        XCTAssertEqual(texts(bob), ["after"])
        XCTAssertEqual(texts(alice), ["after"])
    }

    func testLinesSentWhileLoadingWaitForTheReplayAndAnEmptiedRoomIgnoresTheLateRead() throws {
        let store = GatedStore(gated: ["#slow"])
        store.inner.append(old(1)) { _ in }
        let server = EmbeddedServer(store: store, waitForStore: false)
        let alice = try server.register("alice")
        alice.send("JOIN #slow")
        _ = alice.read()
        alice.send("PART #slow")
        alice.send("PING :after")
        XCTAssertTrue(alice.read().isEmpty, "held until the replay")
        store.release()
        server.core.flushWrites()
        XCTAssertEqual(alice.read().map(\.command), ["PRIVMSG", "PART", "PONG"], "replay, then what was asked after JOIN, in order")
        // A room whose only member disconnects while loading is dropped; its late read changes nothing.
        let carol = try server.register("carol")
        carol.send("JOIN #slow")
        try carol.channel.close().wait()
        let dave = try server.register("dave")
        dave.send("JOIN #slow")
        _ = dave.read()
        XCTAssertEqual(store.held.count, 2)
        store.release()
        server.core.flushWrites()
        XCTAssertEqual(dave.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters[1] }, ["old 1"])
        dave.send("PING :still answered")
        XCTAssertEqual(dave.read().first?.parameters.last, "still answered")
    }

    /// A failed read tells the waiting members and still delivers what was said meanwhile.
    func testAFailedReadIsReportedAndLiveChatStillArrives() throws {
        final class FailingStore: MessageStore, @unchecked Sendable {
            struct Broken: Error {}
            var held: [() -> Void] = []
            func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) { completion(nil) }
            func history(channelKey: String, _ query: HistoryQuery, completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
                held.append { completion(.failure(Broken())) }
            }
            func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
                completion(.success(false))
            }
        }
        let store = FailingStore()
        let server = EmbeddedServer(store: store, waitForStore: false)
        let a = try server.register("a"), b = try server.register("b")
        a.send("JOIN #r"); b.send("JOIN #r")
        _ = a.read(); _ = b.read()
        a.send("PRIVMSG #r :hello")
        store.held.forEach { $0() }
        server.core.flushWrites()
        let lines = b.read()
        XCTAssertTrue(lines.first("NOTICE")?.parameters.last?.hasPrefix("History is unavailable") ?? false, "\(lines)")
        XCTAssertEqual(lines.first("PRIVMSG")?.parameters, ["#r", "hello"])
    }

    /// An echo waits for the store; what the client sends meanwhile is answered after it,
    /// in order (the PONG of a PING sent right after a message comes after its echo).
    func testRepliesKeepTheClientsOrderWhileAnEchoWaitsForTheStore() throws {
        final class SlowAppends: MessageStore, @unchecked Sendable {
            var held: [() -> Void] = []
            var reads: [() -> Void] = []
            var joined = false
            func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) { held.append { completion(nil) } }
            func history(channelKey: String, _ query: HistoryQuery, completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
                // The JOIN's read answers at once; later ones (CHATHISTORY) when the test says.
                if joined { reads.append { completion(.success([])) } } else { completion(.success([])) }
                joined = true
            }
            func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
                completion(.success(false))
            }
        }
        let store = SlowAppends()
        let server = EmbeddedServer(store: store, waitForStore: false)
        let a = try server.register("a", caps: ["echo-message", "batch"]), b = try server.register("b")
        a.send("JOIN #r"); b.send("JOIN #r")
        _ = a.read(); _ = b.read()
        a.sendRaw(Array("PRIVMSG #r :one\r\nPING :after-one\r\nPRIVMSG #r :two\r\nPING :after-two\r\n".utf8))
        XCTAssertEqual(a.read().commands(), [], "nothing before the first echo")
        XCTAssertEqual(b.read().map { $0.parameters.last }, ["one"], "the others get it at once")
        XCTAssertEqual(store.held.count, 1)
        store.held.removeFirst()()
        server.core.flushWrites()
        XCTAssertEqual(a.read().map { $0.parameters.last }, ["one", "after-one"])
        XCTAssertEqual(b.read().map { $0.parameters.last }, ["two"])
        store.held.removeFirst()()
        server.core.flushWrites()
        XCTAssertEqual(a.read().map { $0.parameters.last }, ["two", "after-two"])
        // A CHATHISTORY answer read off the loop also comes before the next reply.
        a.send("CHATHISTORY LATEST #r * 5")
        a.send("PING :after-history")
        XCTAssertEqual(a.read().commands(), [], "the read is in flight")
        store.reads.removeFirst()()
        server.core.flushWrites()
        XCTAssertEqual(a.read().commands(), ["BATCH", "BATCH", "PONG"], "the (empty) answer, then PONG")
        // Without echo-message nothing waits.
        b.send("PRIVMSG #r :three")
        b.send("PING :now")
        XCTAssertEqual(b.read().map { $0.parameters.last }, ["now"])
    }

    /// On real sockets: the first JOIN of a room whose history read takes 2 s; a message in
    /// another room still arrives at once (the read blocks no loop).
    func testASlowSQLiteReadDoesNotDelayOtherRoomsOnARealServer() throws {
        final class SlowStore: MessageStore, @unchecked Sendable {
            let inner: SQLiteMessageStore
            init(_ inner: SQLiteMessageStore) { self.inner = inner }
            func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
                inner.append(message, completion: completion)
            }
            func history(channelKey: String, _ query: HistoryQuery, completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
                inner.history(channelKey: channelKey, query) { result in
                    if channelKey == "#slow" { Thread.sleep(forTimeInterval: 2) }
                    completion(result)
                }
            }
            func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
                inner.redact(channelKey: channelKey, msgid: msgid, completion: completion)
            }
        }
        let dir = NSTemporaryDirectory() + "chatcast-slow-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sqlite = try SQLiteMessageStore(directory: dir)
        sqlite.append(StoredMessage(msgid: "s1", channel: "#slow", time: "2026-11-25T11:00:00.000Z", source: "x!x@h", text: "stored")) { _ in }
        sqlite.flush()
        let server = IRCServer(config: IRCServerConfig(), store: SlowStore(sqlite))
        try server.start(host: "127.0.0.1", port: 0)
        defer { try? server.stop() }
        let fast1 = try LineClient(port: server.port, nick: "fastone"), fast2 = try LineClient(port: server.port, nick: "fasttwo")
        let slow = try LineClient(port: server.port, nick: "slowone")
        fast1.send("JOIN #fast"); fast2.send("JOIN #fast")
        _ = try fast1.waitFor { $0.command == "366" }
        _ = try fast2.waitFor { $0.command == "366" }
        slow.send("JOIN #slow")
        _ = try slow.waitFor { $0.command == "366" }
        let start = Date()
        fast2.send("PRIVMSG #fast :not delayed")
        _ = try fast1.waitFor { $0.command == "PRIVMSG" }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "a message in another room waited for the history read")
        let replay = try slow.waitFor(seconds: 10) { $0.command == "PRIVMSG" }
        XCTAssertEqual(replay.parameters, ["#slow", "stored"])
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 1.0, "the slow read was not slow")
    }
}

/// A blocking line-based IRC client on a real socket, for tests of the real server.
final class LineClient {
    let handle: FileHandle
    private var buffer = Data()
    let fd: Int32

    init(port: Int, nick: String, caps: [String] = [], password: String? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        if let password { send("PASS \(password)") }
        if !caps.isEmpty { send("CAP REQ :\(caps.joined(separator: " "))") }
        send("NICK \(nick)")
        send("USER \(nick) 0 * :\(nick)")
        if !caps.isEmpty { send("CAP END") }
        _ = try waitFor { $0.command == "001" }
    }

    func send(_ line: String) {
        let bytes = Array((line + "\r\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads lines until one matches (the lines before it are dropped).
    func waitFor(seconds: Double = 5, _ match: (IRCMessage) -> Bool) throws -> IRCMessage {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            while let range = buffer.range(of: Data("\r\n".utf8)) {
                let line = String(decoding: buffer[buffer.startIndex..<range.lowerBound], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex..<range.upperBound)
                if let m = try? IRCMessage.parse(line), match(m) { return m }
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]) } else if n == 0 { break }
        }
        throw POSIXError(.ETIMEDOUT)
    }
}
