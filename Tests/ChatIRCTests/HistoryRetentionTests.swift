import ChatCastSEI
import ChatIRC
import ChatIRCServer
import Foundation
import XCTest

/// Chat history stays within its retention: old messages and those beyond each room's newest
/// N are deleted from SQLite, and what was deleted is not replayed from memory either.
final class HistoryRetentionTests: XCTestCase {
    private func message(_ id: String, _ channel: String, daysAgo: Double, now: Date) -> StoredMessage {
        let then = now.timeIntervalSince1970 - daysAgo * 86_400
        return StoredMessage(msgid: id, channel: channel, time: ChatMessageFactory.timestamp(seconds: Int(then)),
                             source: "talker!t@h", text: id)
    }

    private func stored(_ store: SQLiteMessageStore, _ key: String) -> [String] {
        let done = DispatchSemaphore(value: 0)
        let found = Found()
        store.history(channelKey: key, .latest(after: nil, limit: 1000)) { result in
            found.set((try? result.get())?.map(\.msgid) ?? [])
            done.signal()
        }
        done.wait()
        return found.value
    }

    func testPruningKeepsTheNewestOfEachRoomWithinTheAge() throws {
        let dir = NSTemporaryDirectory() + "chatcast-retention-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteMessageStore(directory: dir, retention: HistoryRetention(maxAgeDays: 7, maxMessagesPerRoom: 3))
        let now = Date()
        for (n, age) in [10.0, 8, 6, 5, 4, 3, 2, 1].enumerated() {
            store.append(message("a\(n)", "#a", daysAgo: age, now: now)) { _ in }
        }
        for n in 0..<2 { store.append(message("b\(n)", "#B", daysAgo: 20 - Double(n), now: now)) { _ in } }
        store.append(message("c0", "#c", daysAgo: 0.5, now: now)) { _ in }
        // (The store's own pruning at start may have taken some already.)
        store.prune(now: now)
        XCTAssertEqual(stored(store, "#a"), ["a5", "a6", "a7"], "the newest 3 of #a")
        XCTAssertEqual(stored(store, "#b"), [], "all of #b is older than 7 days")
        XCTAssertEqual(stored(store, "#c"), ["c0"])
        XCTAssertEqual(store.prune(now: now), 0, "nothing more to prune")
    }

    /// A busy room stays near its cap between the periodic prunes (an hour apart here): its
    /// newest messages are kept, and the file does not grow with the traffic.
    func testABusyRoomIsKeptToItsCapAsItIsWritten() throws {
        let dir = NSTemporaryDirectory() + "chatcast-retention-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteMessageStore(directory: dir, retention: HistoryRetention(maxAgeDays: nil, maxMessagesPerRoom: 50),
                                           pruneInterval: .seconds(3600))
        let now = Date()
        for n in 0..<2000 { store.append(message("m\(n)", "#busy", daysAgo: 0, now: now)) { _ in } }
        store.append(message("q0", "#quiet", daysAgo: 0, now: now)) { _ in }
        store.flush()
        let kept = stored(store, "#busy")
        XCTAssertGreaterThanOrEqual(kept.count, 50, "at least the cap is kept")
        XCTAssertLessThanOrEqual(kept.count, 55, "the cap and a tenth of it at most")
        XCTAssertEqual(kept, (2000 - kept.count..<2000).map { "m\($0)" }, "the newest, in order")
        XCTAssertEqual(stored(store, "#quiet"), ["q0"], "other rooms untouched")
    }

    func testForeverKeepsEverything() throws {
        let dir = NSTemporaryDirectory() + "chatcast-retention-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteMessageStore(directory: dir, retention: .forever)
        store.append(message("old", "#a", daysAgo: 4000, now: Date())) { _ in }
        XCTAssertEqual(store.prune(), 0)
        XCTAssertEqual(stored(store, "#a"), ["old"])
    }

    /// A room that stays open for days replays from memory: what the store has pruned by age
    /// does not come back from there.
    func testTheReplayOnJoinLeavesOutWhatRetentionDeleted() throws {
        // The room's first line was said two days ago, the second now (the clock's first answer
        // is the server's start).
        let said = Said()
        let server = EmbeddedServer({ $0.historyRetention = HistoryRetention(maxAgeDays: 1, maxMessagesPerRoom: nil) },
                                    wallClock: { said.next() })
        let a = try server.register("a")
        a.send("JOIN #long")
        a.send("PRIVMSG #long :two days ago")
        a.send("PRIVMSG #long :today")
        _ = a.read()
        let b = try server.register("b")
        b.send("JOIN #long")
        let replayed = b.read().filter { $0.command == "PRIVMSG" }.map { $0.parameters.last ?? "" }
        XCTAssertEqual(replayed, ["today"])
    }
}

private final class Found: @unchecked Sendable {  // written once before the semaphore the reader waits on
    private var ids: [String] = []
    func set(_ value: [String]) { ids = value }
    var value: [String] { ids }
}

/// A wall clock whose second time is two days back and the others now.
private final class Said: @unchecked Sendable {  // used from the embedded server's one thread
    private var calls = 0
    func next() -> String {
        calls += 1
        let seconds = Int(Date().timeIntervalSince1970) - (calls == 2 ? 2 * 86_400 : 0)
        return ChatMessageFactory.timestamp(seconds: seconds)
    }
}
