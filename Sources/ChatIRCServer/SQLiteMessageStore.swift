import ChatIRC
import Foundation
import GRDB

/// Room history in SQLite (GRDB) at `DIR/chat.sqlite`. WAL journal: a commit has reached
/// the operating system before `append` calls back, so killing the server (even `kill -9`)
/// right after an echo loses no message. Writes run on their own thread, off the event
/// loop, and messages that arrive while one commit runs go together in the next (group
/// commit): a WAL checkpoint's fsync never stalls chat delivery.
public final class SQLiteMessageStore: MessageStore, @unchecked Sendable {
    private let db: DatabaseQueue
    private let writer = DispatchQueue(label: "chatcast.history")
    private let lock = NSLock()
    private var pending: [(StoredMessage?, @Sendable (Error?) -> Void)] = []

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        db = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("chat.sqlite"), configuration: config)
        _ = try db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
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
        try migrator.migrate(db)
    }

    deinit { flush() }

    public func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
        lock.lock()
        pending.append((message, completion))
        let first = pending.count == 1
        lock.unlock()
        // Recipients already have the message (only the sender's echo waits for the commit):
        // gathering a few milliseconds of messages per transaction costs no one latency.
        if first { writer.asyncAfter(deadline: .now() + .milliseconds(2)) { self.commitPending() } }
    }

    /// Waits until everything appended so far is committed.
    public func flush() {
        writer.sync { self.commitPending() }
    }

    private func commitPending() {
        lock.lock()
        let batch = pending
        pending = []
        lock.unlock()
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
                }
            } catch {
                failure = error
            }
        }
        for (_, completion) in batch { completion(failure) }
    }

    public func recent(channelKey: String, limit: Int) throws -> [StoredMessage] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT channel, msgid, time, source, text FROM message WHERE channelKey = ? "
                                 + "ORDER BY id DESC LIMIT ?", arguments: [channelKey, limit])
                .reversed()
                .map { StoredMessage(msgid: $0["msgid"], channel: $0["channel"], time: $0["time"], source: $0["source"],
                                     text: $0["text"]) }
        }
    }
}
