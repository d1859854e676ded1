import ChatIRC

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

/// Where room history lives. `append` returns only once the message is stored: the server
/// echoes and broadcasts after it, so a crash right after an echo loses nothing.
public protocol MessageStore: AnyObject {
    func append(_ message: StoredMessage) throws
    /// The last `limit` messages of the channel (folded name), oldest first.
    func recent(channelKey: String, limit: Int) throws -> [StoredMessage]
}

/// History kept only in memory (tests, and servers that need no persistence).
public final class InMemoryMessageStore: MessageStore {
    private var messages: [String: [StoredMessage]] = [:]
    public init() {}
    public func append(_ message: StoredMessage) throws {
        messages[CaseMapping.fold(message.channel), default: []].append(message)
    }
    public func recent(channelKey: String, limit: Int) throws -> [StoredMessage] {
        Array((messages[channelKey] ?? []).suffix(limit))
    }
}
