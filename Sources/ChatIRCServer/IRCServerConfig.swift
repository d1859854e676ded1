import NIOCore

/// Everything an operator may tune; the defaults are the limits of DESIGN.md.
public struct IRCServerConfig: Sendable {
    public var serverName = "chatcast.local"
    public var networkName = "ChatCast"
    /// PASS every client must give (`--irc-password`); nil: none.
    public var password: String?
    /// PASS that makes a client a publisher: may set room topics (the RTSP URLs) and gets +o.
    public var publisherPassword: String?
    public var maxConnections = 2000
    public var maxRoomsPerClient = 50
    /// Messages of a room replayed on JOIN.
    public var historyReplay = 50
    /// What the history keeps (the store prunes; the replay on JOIN leaves out what is older).
    public var historyRetention = HistoryRetention()
    /// Token bucket per client for PRIVMSG and NOTICE: `rateBurst` messages per `ratePeriod`.
    public var rateBurst = 20
    public var ratePeriod: TimeAmount = .seconds(30)
    public var ratePeriodSeconds: Int {
        get { Int(ratePeriod.nanoseconds / 1_000_000_000) }
        set { ratePeriod = .seconds(Int64(newValue)) }
    }
    /// Refused messages in a row (while the bucket is empty) before the client is disconnected.
    public var floodDisconnectAfter = 10
    /// Bytes waiting for a client that does not read before it is dropped. InspIRCd's
    /// hard send queue: a reader that keeps up but lags a burst (a busy room, a history
    /// replay) stays; one that stopped reading costs at most this.
    public var sendQueueBytes = 1024 * 1024
    /// How long a client may stay over `sendQueueBytes` before it is dropped: a reader that
    /// is only behind for a moment (descheduled during a burst) catches up; one that stopped
    /// reading is gone after this.
    public var sendQueueGrace: TimeAmount = .seconds(1)
    public var registrationTimeout: TimeAmount = .seconds(30)
    /// Silence before the server sends PING, and time allowed for the PONG.
    public var pingInterval: TimeAmount = .seconds(90)
    public var pingTimeout: TimeAmount = .seconds(60)
    public var maxTextCharacters = 500
    public var nickLength = 30
    public var roomLength = 50
    public var topicLength = 390
    /// Entries of each bounded list: a room's bans and pending invites, WHOWAS.
    public var maxListEntries = 100
    public var whowasEntries = 200
    /// Message of the day (MOTD), one string per line; empty: none (422).
    public var motd: [String] = []
    /// Server operators (OPER name password): name → password, plain or as
    /// `ServerOperators.hash` made it (`sha256$…`).
    public var operators: [String: String] = [:]

    public init() {}
}
