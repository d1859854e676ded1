import ChatIRC
import Locking

/// A chat message as the history keeps it.
public struct StoredMessage: Equatable, Sendable {
    public var msgid: String
    /// Channel name as first created (`#Lobby`); lookups fold case.
    public var channel: String
    public var time: String
    /// `nick!user@host` of the sender.
    public var source: String
    public var text: String

    public init(msgid: String, channel: String, time: String, source: String, text: String) {
        self.msgid = msgid
        self.channel = channel
        self.time = time
        self.source = source
        self.text = text
    }
}

/// Which stored messages of a room a read wants (IRCv3 `draft/chathistory` selectors).
/// Results are always oldest first and at most `limit` long.
public enum HistoryQuery: Equatable, Sendable {
    /// A point in a room's history: a message, or a `server-time` timestamp.
    public enum Anchor: Equatable, Sendable {
        case msgid(String)
        case time(String)
    }
    /// The newest messages (after the anchor when given).
    case latest(after: Anchor?, limit: Int)
    case before(Anchor, limit: Int)
    case after(Anchor, limit: Int)
    /// Strictly between the two anchors, in either order, from the first one's side.
    case between(Anchor, Anchor, limit: Int)
    /// Up to `limit` messages centred on the anchor (it included).
    case around(Anchor, limit: Int)
}

/// Where room history lives. `append` calls back only once the message is stored: the
/// server echoes and broadcasts after that, so a crash right after an echo loses nothing.
/// Callbacks come in submission order (nil messages store nothing and only keep the order).
/// Reads and deletions never block the caller: the server calls them on its event loop,
/// and they call back from any thread.
public protocol MessageStore: AnyObject, Sendable {
    func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void)
    /// Messages of the channel (folded name) that `query` selects, oldest first.
    func history(channelKey: String, _ query: HistoryQuery, completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void)
    /// Deletes one message of the channel (moderation): true when it was there.
    func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void)
}

extension HistoryQuery {
    /// The selection applied to one room's messages in order (the in-memory store, and
    /// the reference the SQLite queries are tested against).
    public func select(from messages: [StoredMessage]) -> [StoredMessage] {
        // Position of an anchor: a message's index, or where a time would be inserted.
        func position(_ anchor: Anchor) -> (index: Int, exact: Bool)? {
            switch anchor {
            case let .msgid(id):
                return messages.firstIndex { $0.msgid == id }.map { ($0, true) }
            case let .time(t):
                let i = messages.firstIndex { $0.time >= t } ?? messages.count
                return (i, i < messages.count && messages[i].time == t)
            }
        }
        switch self {
        case let .latest(anchor, limit):
            var start = 0
            if let anchor {
                guard let p = position(anchor) else { return [] }
                start = p.exact ? p.index + 1 : p.index
            }
            return Array(messages[start...].suffix(max(0, limit)))
        case let .before(anchor, limit):
            guard let p = position(anchor) else { return [] }
            return Array(messages[..<p.index].suffix(max(0, limit)))
        case let .after(anchor, limit):
            guard let p = position(anchor) else { return [] }
            let start = p.exact ? p.index + 1 : p.index
            return Array(messages[start...].prefix(max(0, limit)))
        case let .between(a, b, limit):
            guard let pa = position(a), let pb = position(b) else { return [] }
            if pa.index <= pb.index {
                let start = pa.exact ? pa.index + 1 : pa.index
                guard start <= pb.index else { return [] }
                return Array(messages[start..<pb.index].prefix(max(0, limit)))
            }
            let end = pb.exact ? pb.index + 1 : pb.index
            guard end <= pa.index else { return [] }
            return Array(messages[end..<pa.index].suffix(max(0, limit)))
        case let .around(anchor, limit):
            guard let p = position(anchor), limit > 0 else { return [] }
            let before = (limit - 1) / 2
            let start = max(0, p.index - before)
            return Array(messages[start..<min(messages.count, start + limit)])
        }
    }
}

/// History kept only in memory (tests, and servers that need no persistence).
public final class InMemoryMessageStore: MessageStore, Sendable {
    private let messages = Mutex<[String: [StoredMessage]]>([:])
    public init() {}
    public func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
        if let message { messages.withLock { $0[CaseMapping.fold(message.channel), default: []].append(message) } }
        completion(nil)
    }
    public func history(channelKey: String, _ query: HistoryQuery,
                        completion: @escaping @Sendable (Result<[StoredMessage], Error>) -> Void) {
        completion(.success(query.select(from: messages.withLock { $0[channelKey] } ?? [])))
    }
    public func redact(channelKey: String, msgid: String, completion: @escaping @Sendable (Result<Bool, Error>) -> Void) {
        let removed = messages.withLock { all -> Bool in
            let before = all[channelKey]?.count ?? 0
            all[channelKey]?.removeAll { $0.msgid == msgid }
            return (all[channelKey]?.count ?? 0) < before
        }
        completion(.success(removed))
    }
}
