import NIOCore

/// One connection's state. Lives on the server's event loop only.
final class ClientState {
    let id: Int
    let channel: Channel
    let host: String
    let connectedAt: NIODeadline
    var nick: String?
    var user: String?
    var realName = ""
    var password: String?
    var registered = false
    /// CAP LS/REQ seen and no CAP END yet: registration waits.
    var negotiatingCapabilities = false
    var capabilities: Set<String> = [] {
        didSet { tagVariant = capabilities.contains("message-tags") ? 2 : capabilities.contains("server-time") ? 1 : 0 }
    }
    /// Which tags this client's lines carry: 2 all (message-tags), 1 time only
    /// (server-time), 0 none. Kept so a broadcast does not hash strings per recipient.
    private(set) var tagVariant = 0
    var publisher = false
    /// Folded channel names.
    var rooms: Set<String> = []
    var bucket: TokenBucket
    var refusedInARow = 0
    var lastHeard: NIODeadline
    var pingSentAt: NIODeadline?
    var closing = false
    /// Lines for this client not yet handed to the channel (see `ChatServerCore.flushWrites`).
    var outbox: ByteBuffer?

    init(id: Int, channel: Channel, host: String, now: NIODeadline, config: IRCServerConfig) {
        self.id = id
        self.channel = channel
        self.host = host
        connectedAt = now
        lastHeard = now
        bucket = TokenBucket(capacity: config.rateBurst, period: config.ratePeriod, now: now)
    }

    /// `nick!user@host`, the source of what this client says.
    var source: String { "\(nick ?? "*")!\(user ?? "unknown")@\(host)" }
    /// The nick in replies (`*` before there is one).
    var target: String { nick ?? "*" }

    func has(_ capability: String) -> Bool { capabilities.contains(capability) }
}

/// A channel: members in join order, topic (the room's RTSP URL).
final class RoomState {
    let name: String
    let createdAt: Int
    var members: [Int: ClientState] = [:]
    /// Members in join order, kept (not rebuilt per message: every PRIVMSG walks it).
    private(set) var orderedMembers: [ClientState] = []
    var operators: Set<Int> = []
    var topic: String?
    var topicSetBy = ""
    var topicSetAt = 0

    init(name: String, createdAt: Int) {
        self.name = name
        self.createdAt = createdAt
    }

    func add(_ client: ClientState) {
        guard members[client.id] == nil else { return }
        members[client.id] = client
        orderedMembers.append(client)
    }

    func remove(_ client: ClientState) {
        guard members.removeValue(forKey: client.id) != nil else { return }
        orderedMembers.removeAll { $0 === client }
        operators.remove(client.id)
    }
}
