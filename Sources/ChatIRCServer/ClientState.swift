import ChatIRC
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
    /// AWAY message; nil when here.
    var away: String?
    /// A server operator (OPER): user mode +o.
    var isOper = false
    /// User mode +w: receives WALLOPS.
    var wallops = false
    /// Label of the command being handled (`labeled-response`), and its replies so far.
    var label: String?
    var labeled: [IRCMessage]?
    /// A reply to the labeled command will come later (a stored message's echo): no ACK.
    var labelAnswered = false
    /// Channel messages of this client whose echo waits for the store (see `echoSent`), and
    /// the lines it sent since, handled once the echoes are out.
    var echoesPending = 0
    var heldLines: [IRCInboundLine] = []
    var lastSpokeAt: NIODeadline
    /// Unix time of registration (WHOIS 317).
    var signedOnAt = 0
    /// Lines for this client not yet handed to the channel (see `ChatServerCore.flushWrites`).
    var outbox: ByteBuffer?

    init(id: Int, channel: Channel, host: String, now: NIODeadline, config: IRCServerConfig) {
        self.id = id
        self.channel = channel
        self.host = host
        connectedAt = now
        lastHeard = now
        lastSpokeAt = now
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
    var voiced: Set<Int> = []
    var modes = ChannelModes()
    /// `+b` list, oldest first; bounded by `IRCServerConfig.maxListEntries`.
    var bans: [BanEntry] = []
    /// Clients invited (INVITE) and not yet joined, oldest first; bounded like the bans.
    var invited: [Int] = []
    /// When each member last spoke, for slow mode (`+W`).
    var lastSpoke: [Int: NIODeadline] = [:]
    /// The room's last messages, so JOIN replays without reading the store; nil until the
    /// first JOIN's read (`loading`) comes back.
    var recent: [StoredMessage]?
    var loading: HistoryLoad?
    var topic: String?
    var topicSetBy = ""
    var topicSetAt = 0
    /// The topic came from a publisher: a stream URL only publishers replace.
    var topicByPublisher = false

    init(name: String, createdAt: Int) {
        self.name = name
        self.createdAt = createdAt
    }

    /// `@+`-style prefix of a member: all of them for `multi-prefix` clients, else the highest.
    func prefix(of client: ClientState, all: Bool) -> String {
        let op = operators.contains(client.id) ? "@" : "", voice = voiced.contains(client.id) ? "+" : ""
        return all ? op + voice : (op.isEmpty ? voice : op)
    }

    /// A secret (+s) room shows itself (LIST, NAMES, WHO, WHOIS) only to members and server operators.
    func isVisible(to client: ClientState) -> Bool {
        !modes.secret || members[client.id] === client || client.isOper
    }

    func isBanned(_ client: ClientState) -> Bool {
        let source = client.source
        return bans.contains { $0.mask.matches(source) }
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
        voiced.remove(client.id)
        lastSpoke.removeValue(forKey: client.id)
    }
}
