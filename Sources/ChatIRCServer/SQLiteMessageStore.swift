import ChatIRC
import Foundation
import GRDB
import Locking

/// Room history in SQLite (GRDB) at `DIR/chat.sqlite`. WAL journal: a commit has reached
/// the operating system before `append` calls back, so killing the server (even `kill -9`)
/// right after an echo loses no message. Writes run on their own thread, off the event
/// loop, and messages that arrive while one commit runs go together in the next (group
/// commit): a WAL checkpoint's fsync never stalls chat delivery. Reads go through a
/// `DatabasePool`: WAL readers run beside the writer, never behind a commit.
///
/// History is kept within its `HistoryRetention`: pruned on the writer's queue at start and
/// every `pruneInterval` (behind the writes, never on the event loop); a room's message cap
/// is also kept as the room is written to.
public final class SQLiteMessageStore: MessageStore, Sendable {
    private let db: DatabasePool
    private let writer = DispatchQueue(label: "chatcast.history")
    /// Marks the writer's queue, so that work already on it does not wait for it (deadlock).
    private static let onWriter = DispatchSpecificKey<Bool>()
    private let pending = Mutex<[(StoredMessage?, @Sendable (Error?) -> Void)]>([])
    public let retention: HistoryRetention
    private let pruning = Mutex<DispatchSourceTimer?>(nil)
    /// Messages written to each room since its count was last trimmed (used on the writer).
    private let writtenSinceTrim = Mutex<[String: Int]>([:])

    public init(directory: String, retention: HistoryRetention = HistoryRetention(),
                pruneInterval: DispatchTimeInterval = .seconds(600)) throws {
        self.retention = retention
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // A pool always uses the WAL journal.
        db = try DatabasePool(path: (directory as NSString).appendingPathComponent("chat.sqlite"), configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "message") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("channelKey", .text).notNull()
                t.column("channel", .text).notNull()
                t.column("msgid", .text).notNull().unique()
                t.column("time", .text).notNull()
                t.column("source", .text).notNull()
                t.column("text", .text).notNull()
            }
            try db.create(index: "message_by_channel", on: "message", columns: ["channelKey", "id"])
        }
        // chathistory's timestamp= selectors.
        migrator.registerMigration("v2") { db in
            try db.create(index: "message_by_time", on: "message", columns: ["channelKey", "time"])
        }
        try migrator.migrate(db)
        writer.setSpecific(key: Self.onWriter, value: true)
        if retention != .forever {
            pruning.withLock { timer in
                let made = DispatchSource.makeTimerSource(queue: writer)
                made.schedule(deadline: .now(), repeating: pruneInterval)
                made.setEventHandler { [weak self] in _ = self?.pruneNow() }
                made.resume()
                timer = made
            }
        }
    }

    deinit {
        pruning.withLock { $0?.cancel() }
        flush()
    }

    public func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
        let first = pending.withLock { queue -> Bool in
            queue.append((message, completion))
            return queue.count == 1
        }
        // Recipients already have the message (only the sender's echo waits for the commit):
        // gathering a few milliseconds of messages per transaction costs no one latency.
        if first { writer.asyncAfter(deadline: .now() + .milliseconds(2)) { self.commitPending() } }
    }

    /// Waits until everything appended so far is committed. (The last reference may go on
    /// the writer's queue itself, a pruning tick holding it: then it commits there.)
    public func flush() {
        if DispatchQueue.getSpecific(key: Self.onWriter) == true { return commitPending() }
        writer.sync { self.commitPending() }
    }

    /// Applies the retention now, behind the writes queued so far; returns the messages deleted.
    @discardableResult
    public func prune(now: Date = Date()) -> Int {
        if DispatchQueue.getSpecific(key: Self.onWriter) == true { return pruneNow(now: now) }
        return writer.sync { pruneNow(now: now) }
    }

    /// On the writer's queue.
    private func pruneNow(now: Date = Date()) -> Int {
        commitPending()
        do {
            return try db.write { db in
                var deleted = 0
                if let cutoff = retention.cutoff(now: now) {
                    try db.execute(sql: "DELETE FROM message WHERE time < ?", arguments: [cutoff])
                    deleted += db.changesCount
                }
                if let keep = retention.maxMessagesPerRoom {
                    try db.execute(sql: """
                        DELETE FROM message WHERE id IN (
                          SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY channelKey ORDER BY id DESC) AS newer
                                          FROM message) WHERE newer > ?)
                        """, arguments: [keep])
                    deleted += db.changesCount
                }
                return deleted
            }
        } catch {
            return 0
        }
    }

    /// The per-room cap holds as messages arrive, not only at the periodic prune: a room is
    /// trimmed to its newest N each time a tenth of N more were written to it.
    private func trimBusyRooms(_ db: Database, _ keys: [String]) throws {
        guard let keep = retention.maxMessagesPerRoom else { return }
        let slack = max(1, keep / 10)
        let due = writtenSinceTrim.withLock { counts -> [String] in
            var due: [String] = []
            for key in keys {
                counts[key, default: 0] += 1
                if counts[key]! >= slack {
                    counts[key] = nil
                    due.append(key)
                }
            }
            return due
        }
        for key in Set(due) {
            try db.execute(sql: """
                DELETE FROM message WHERE channelKey = ? AND id <= (
                  SELECT id FROM message WHERE channelKey = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                """, arguments: [key, key, keep])
        }
    }

    private func commitPending() {
        let batch = pending.withLock { queue -> [(StoredMessage?, @Sendable (Error?) -> Void)] in
            defer { queue = [] }
            return queue
        }
        let messages = batch.compactMap(\.0)
        var failure: Error?
        if !messages.isEmpty {
            do {
                try db.write { db in
                    let insert = try db.cachedStatement(
                        sql: "INSERT INTO message (channelKey, channel, msgid, time, source, text) VALUES (?, ?, ?, ?, ?, ?)")
                    for m in messages {
                        try insert.execute(arguments: [CaseMapping.fold(m.channel), m.channel, m.msgid, m.time, m.source, m.text])
                    }
                    try trimBusyRooms(db, messages.map { CaseMapping.fold($0.channel) })
                }
            } catch {
                failure = error
            }
        }
        for (_, completion) in batch { completion(failure) }
    }

    public func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
        // Behind the writes: a message appended just before its redaction is stored, then deleted.
        writer.async {
            self.commitPending()
            completion(Result {
                try self.db.write { db in
                    try db.execute(sql: "DELETE FROM message WHERE channelKey = ? AND msgid = ?", arguments: [channelKey, msgid])
                    return db.changesCount > 0
                }
            })
        }
    }

    public func history(channelKey: String, _ query: HistoryQuery,
                        completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
        db.asyncRead { result in
            completion(Result { try Self.select(try result.get(), channelKey, query) })
        }
    }

    /// `HistoryQuery.select` in SQL: anchors become row ids, ranges become indexed scans.
    static func select(_ db: Database, _ key: String, _ query: HistoryQuery) throws -> [StoredMessage] {
        // The anchor's row id (or where its time would be), and whether a row is exactly it.
        func position(_ anchor: HistoryQuery.Anchor) throws -> (id: Int64, exact: Bool)? {
            switch anchor {
            case let .msgid(msgid):
                return try Int64.fetchOne(db, sql: "SELECT id FROM message WHERE channelKey = ? AND msgid = ?",
                                          arguments: [key, msgid]).map { ($0, true) }
            case let .time(t):
                if let row = try Row.fetchOne(db, sql: "SELECT id, time FROM message WHERE channelKey = ? AND time >= ? "
                                                  + "ORDER BY time, id LIMIT 1", arguments: [key, t]) {
                    return (row["id"], (row["time"] as String) == t)
                }
                return (Int64.max, false)
            }
        }
        func rows(_ condition: String, _ arguments: StatementArguments, newest: Bool, limit: Int) throws -> [StoredMessage] {
            guard limit > 0 else { return [] }
            var all: StatementArguments = [key]
            all += arguments
            all += [limit]
            let found = try Row.fetchAll(db, sql: "SELECT channel, msgid, time, source, text FROM message WHERE channelKey = ? AND "
                                             + condition + " ORDER BY id \(newest ? "DESC" : "ASC") LIMIT ?",
                                         arguments: all)
                .map { StoredMessage(msgid: $0["msgid"], channel: $0["channel"], time: $0["time"], source: $0["source"], text: $0["text"]) }
            return newest ? found.reversed() : found
        }
        switch query {
        case let .latest(anchor, limit):
            guard let anchor else { return try rows("1", [], newest: true, limit: limit) }
            guard let p = try position(anchor) else { return [] }
            return try rows(p.exact ? "id > ?" : "id >= ?", [p.id], newest: true, limit: limit)
        case let .before(anchor, limit):
            guard let p = try position(anchor) else { return [] }
            return try rows("id < ?", [p.id], newest: true, limit: limit)
        case let .after(anchor, limit):
            guard let p = try position(anchor) else { return [] }
            return try rows(p.exact ? "id > ?" : "id >= ?", [p.id], newest: false, limit: limit)
        case let .between(a, b, limit):
            guard let pa = try position(a), let pb = try position(b) else { return [] }
            if pa.id <= pb.id {
                return try rows((pa.exact ? "id > ?" : "id >= ?") + " AND id < ?", [pa.id, pb.id], newest: false, limit: limit)
            }
            return try rows((pb.exact ? "id > ?" : "id >= ?") + " AND id < ?", [pb.id, pa.id], newest: true, limit: limit)
        case let .around(anchor, limit):
            guard let p = try position(anchor), limit > 0 else { return [] }
            let before = try rows("id < ?", [p.id], newest: true, limit: (limit - 1) / 2)
            return before + (try rows("id >= ?", [p.id], newest: false, limit: limit - before.count))
        }
    }
}
