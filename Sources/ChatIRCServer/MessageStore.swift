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

/// Where room history lives. `append` calls back only once the message is stored: the
/// server echoes and broadcasts after that, so a crash right after an echo loses nothing.
/// Callbacks come in submission order (nil messages store nothing and only keep the order).
public protocol MessageStore: AnyObject {
    func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void)
    /// The last `limit` messages of the channel (folded name), oldest first.
    func recent(channelKey: String, limit: Int) throws -> [StoredMessage]
}

/// History kept only in memory (tests, and servers that need no persistence).
public final class InMemoryMessageStore: MessageStore {
    private var messages: [String: [StoredMessage]] = [:]
    public init() {}
    public func append(_ message: StoredMessage?, completion: @escaping @Sendable (Error?) -> Void) {
        if let message { messages[CaseMapping.fold(message.channel), default: []].append(message) }
        completion(nil)
    }
    public func recent(channelKey: String, limit: Int) throws -> [StoredMessage] {
        Array((messages[channelKey] ?? []).suffix(limit))
    }
}
