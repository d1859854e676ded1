#if canImport(Glibc)
import Glibc
#endif
import ChatCastSEI
import ChatIRC
import NIOCore
import Locking

/// The chat server's logic: registration, rooms, messages, history, limits. It is confined
/// to one event loop (every connection of the server lives on it), so it needs no locks;
/// the NIO handlers only feed it lines and connection events.
public final class ChatServerCore: @unchecked Sendable {  // its state is touched only on `eventLoop` (asserted at the entry points); what crosses threads is in `completions`, or in a NIOLoopBound
    let config: IRCServerConfig
    let store: MessageStore
    public let eventLoop: EventLoop
    let startedAt: String
    let now: () -> NIODeadline
    let wallClock: () -> String

    var clients: [Int: ClientState] = [:]
    /// Folded nick → client.
    var nicks: [String: ClientState] = [:]
    /// Folded channel name → room.
    var rooms: [String: RoomState] = [:]
    /// Store callbacks waiting for the loop (the only state touched off the loop).
    private let completions = Mutex<[@Sendable () -> Void]>([])
    /// Topics set before anyone joined (the RTSP side announces streams of empty rooms).
    var pendingTopics: [String: (String, String)] = [:]
    /// History writes waiting for the next flush (see `flushWrites`).
    var deferredStores: [() -> Void] = []
    /// When each room last asked its publishers for a key frame.
    var keyFrameRequests: [String: NIODeadline] = [:]
    /// Who had which nick, oldest first (WHOWAS); bounded by `config.whowasEntries`.
    var whowasHistory: [WhowasEntry] = []
    var maxUsersSeen = 0
    /// OPER name of each server operator (client id).
    var operName: [Int: String] = [:]
    private var nextClientID = 0
    private var msgidCounter: UInt64 = 0
    private let msgidPrefix: String
    private var ticker: RepeatedTask?
    /// Clients with lines written and not yet flushed.
    private var unflushed: [ClientState] = []

    public static let capabilities = ["away-notify", "batch", "draft/chathistory", "draft/message-redaction", "echo-message",
                                      "labeled-response", "message-tags", "multi-prefix", "server-time", "userhost-in-names"]

    public init(config: IRCServerConfig, store: MessageStore, eventLoop: EventLoop,
                now: @escaping () -> NIODeadline = { .now() }, wallClock: @escaping () -> String = { ChatMessageFactory.now() }) {
        self.config = config
        self.store = store
        self.eventLoop = eventLoop
        self.now = now
        self.wallClock = wallClock
        startedAt = wallClock()
        var rng = SystemRandomNumberGenerator()
        msgidPrefix = String((rng.next() as UInt64) & 0xFFFF_FFFF_FFFF, radix: 36)
    }

    public var connectionCount: Int { clients.count }
    /// PRIVMSGs and NOTICEs relayed to rooms since the start.
    public internal(set) var roomMessagesRelayed = 0

    /// Starts the timer that times out unregistered and silent clients.
    public func startTimers() {
        let period = TimeAmount.nanoseconds(max(TimeAmount.milliseconds(100).nanoseconds,
                                                min(config.pingTimeout, config.registrationTimeout).nanoseconds / 4))
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in self?.tick() }
    }

    public func stopTimers() {
        ticker?.cancel()
        ticker = nil
    }

    // MARK: connections

    /// Adds the line decoder and the session handler that feed this core to a new
    /// connection's pipeline (after any TLS handler).
    public func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(ByteToMessageHandler(IRCLineDecoder()))
        try addSessionHandler(to: pipeline)
    }

    /// For transports that make the lines themselves (IRC over WebSocket): the handler that
    /// takes `IRCInboundLine`s and writes the server's lines as ByteBuffers.
    public func addSessionHandler(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(IRCSessionHandler(core: self))
    }

    /// A new connection; nil (and the connection closed) when the server is full.
    func connected(_ channel: Channel, host: String) -> ClientState? {
        guard clients.count < config.maxConnections else {
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeString("ERROR :Closing Link: \(host) (Server is full)\r\n")
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
            return nil
        }
        nextClientID += 1
        let client = ClientState(id: nextClientID, channel: channel, host: host, now: now(), config: config)
        clients[client.id] = client
        return client
    }

    /// The connection is gone (closed by either side).
    func disconnected(_ client: ClientState) {
        leaveEverything(client, quitMessage: client.closing ? nil : "Connection closed")
        flushWrites()
    }

    func writabilityChanged(_ client: ClientState) {
        // The high-water mark is the send queue limit: a client still over it after the
        // grace period has stopped reading and is dropped, so that the server's memory stays
        // bounded and everyone else carries on.
        guard !client.channel.isWritable, !client.closing else { return }
        let channel = client.channel, lagging = bound(client)
        eventLoop.scheduleTask(in: config.sendQueueGrace) {
            let client = lagging.value
            guard !client.closing, !channel.isWritable else { return }
            self.drop(client, reason: "SendQ exceeded")
            self.flushWrites()
        }
    }

    /// Sends ERROR, tells the client's rooms it quit, and closes the connection.
    func drop(_ client: ClientState, reason: String) {
        guard !client.closing else { return }
        leaveEverything(client, quitMessage: reason)
        client.closing = true
        var buffer = client.outbox ?? client.channel.allocator.buffer(capacity: 64)
        client.outbox = nil
        buffer.writeString("ERROR :Closing Link: \(client.host) (\(reason))\r\n")
        let closing = client.channel
        closing.writeAndFlush(buffer).whenComplete { _ in closing.close(promise: nil) }
        // A peer that does not read may never let the write complete.
        let channel = client.channel
        eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    private func leaveEverything(_ client: ClientState, quitMessage: String?) {
        guard clients.removeValue(forKey: client.id) != nil else { return }
        rememberWhowas(client)
        operName.removeValue(forKey: client.id)
        if let nick = client.nick, nicks[CaseMapping.fold(nick)] === client { nicks.removeValue(forKey: CaseMapping.fold(nick)) }
        var told = Set<Int>()
        let quit = IRCMessage(source: client.source, command: "QUIT", [quitMessage ?? "Client quit"])
        for key in client.rooms {
            guard let room = rooms[key] else { continue }
            room.remove(client)
            if client.registered {
                let others = room.orderedMembers.filter { told.insert($0.id).inserted }
                broadcast(quit, to: others)
            }
            forgetIfEmpty(room, key: key)
        }
        client.rooms = []
    }

    private func tick() {
        expireBans()
        let t = now()
        for client in Array(clients.values) where !client.closing {
            if !client.registered {
                if t - client.connectedAt > config.registrationTimeout { drop(client, reason: "Registration timed out") }
            } else if let sent = client.pingSentAt {
                if t - sent > config.pingTimeout { drop(client, reason: "Ping timeout") }
            } else if t - client.lastHeard > config.pingInterval {
                client.pingSentAt = t
                send(IRCMessage(command: "PING", [config.serverName]), to: client)
            }
        }
        flushWrites()
    }

    // MARK: input

    func received(_ input: IRCInboundLine, from client: ClientState) {
        guard !client.closing, !holdIfEchoPending(input, from: client) else { return }
        client.lastHeard = now()
        client.pingSentAt = nil
        switch input {
        case .tooLong:
            reply(client, "417", ["Input line was too long (512 bytes, 4096 more for tags)"])
        case let .line(buffer):
            let message: IRCMessage
            do {
                message = try IRCMessage.parse(buffer.readableBytesView)
            } catch IRCParseError.invalidUTF8 {
                send(IRCMessage(source: config.serverName, command: "FAIL", ["*", "INVALID_UTF8", "Message rejected: not UTF-8"]),
                     to: client)
                return
            } catch IRCParseError.empty {
                return
            } catch {
                send(IRCMessage(source: config.serverName, command: "FAIL", ["*", "INVALID_MESSAGE", "\(error)"]), to: client)
                return
            }
            // 512 bytes for the message itself (with CR LF); tags may add 4096.
            let tagBytes = message.tags.isEmpty ? 0 : (buffer.readableBytesView.firstIndex(of: UInt8(ascii: " ")).map {
                $0 - buffer.readerIndex + 1 } ?? 0)
            guard buffer.readableBytes - tagBytes <= 510, tagBytes <= 4096 else {
                reply(client, "417", ["Input line was too long (512 bytes, 4096 more for tags)"])
                return
            }
            handleLabeled(message, from: client)
        }
    }

    func dispatch(_ m: IRCMessage, from client: ClientState) {
        switch m.command {
        case "CAP": capability(m, client)
        case "PASS": pass(m, client)
        case "NICK": nick(m, client)
        case "USER": user(m, client)
        case "PING":
            // An empty token is a token (`PING :`); no parameter at all is ERR_NOORIGIN.
            guard let token = m.parameters.first else { return reply(client, "409", ["No origin specified"]) }
            send(IRCMessage(source: config.serverName, command: "PONG", [config.serverName, token]), to: client)
        case "PONG": break
        case "QUIT": quit(m, client)
        default:
            guard client.registered else { return reply(client, "451", ["You have not registered"]) }
            switch m.command {
            case "JOIN": join(m, client)
            case "PART": part(m, client)
            case "PRIVMSG", "NOTICE", "TAGMSG": chat(m, client)
            case "TOPIC": topic(m, client)
            case "NAMES": names(m, client)
            case "WHO": who(m, client)
            case "WHOIS": whois(m, client)
            case "WHOWAS": whowas(m, client)
            case "MODE": mode(m, client)
            case "KICK": kick(m, client)
            case "INVITE": invite(m, client)
            case "TBAN": timedBan(m, client)
            case "REDACT": redact(m, client)
            case "CHATHISTORY": chathistory(m, client)
            case "LIST": list(m, client)
            case "USERHOST", "ISON": userhost(m, client)
            case "AWAY": away(m, client)
            case "LUSERS": lusers(client)
            case "MOTD": motd(client)
            case "TIME": reply(client, "391", [config.serverName, wallClock()])
            case "INFO": info(client)
            case "VERSION": version(client)
            case "OPER": oper(m, client)
            case "KILL": kill(m, client)
            case "WALLOPS": wallops(m, client)
            default: reply(client, "421", [m.command, "Unknown command"])
            }
        }
    }

    // MARK: output

    func nextMsgid() -> String {
        msgidCounter += 1
        return "\(msgidPrefix)\(String(msgidCounter, radix: 36))"
    }

    func reply(_ client: ClientState, _ numeric: String, _ parameters: [String]) {
        send(IRCMessage(source: config.serverName, command: numeric, [client.target] + parameters), to: client)
    }

    func needMore(_ client: ClientState, _ command: String) {
        reply(client, "461", [command, "Not enough parameters"])
    }

    /// The message as this client may see it: tags only for the capabilities it took.
    func visible(_ m: IRCMessage, for client: ClientState) -> IRCMessage {
        guard !m.tags.isEmpty else { return m }
        var copy = m
        if client.has("message-tags") {
            copy.tags = m.tags.filter { $0.key != "batch" || client.has("batch") }
        } else {
            copy.tags = m.tags.filter { ($0.key == "time" && client.has("server-time")) || ($0.key == "batch" && client.has("batch"))
                || ($0.key == "label" && client.has("labeled-response")) }
        }
        return copy
    }

    func send(_ m: IRCMessage, to client: ClientState) {
        guard !client.closing else { return }
        if client.labeled != nil { return client.labeled!.append(m) }
        var buffer = client.channel.allocator.buffer(capacity: 256)
        buffer.writeString(visible(m, for: client).serialized)
        write(buffer, to: client)
    }

    /// Writes one message to many clients, serialising it once per tag variant.
    func broadcast(_ m: IRCMessage, to recipients: [ClientState], except sender: ClientState? = nil) {
        var cache: [ByteBuffer?] = [nil, nil, nil]
        for client in recipients where !client.closing && client !== sender {
            if client.labeled != nil {
                client.labeled!.append(m)
                continue
            }
            let variant = client.tagVariant
            let buffer: ByteBuffer
            if let cached = cache[variant] {
                buffer = cached
            } else {
                var fresh = client.channel.allocator.buffer(capacity: 256)
                fresh.writeString(visible(m, for: client).serialized)
                cache[variant] = fresh
                buffer = fresh
            }
            write(buffer, to: client)
        }
    }

    /// Queues bytes for a client; `flushWrites` sends them. Lines produced while handling
    /// one read (or one batch of stored messages) leave in one system call per client, as
    /// ngircd and every busy ircd do, instead of one per line.
    private func write(_ buffer: ByteBuffer, to client: ClientState) {
        if client.outbox == nil {
            client.outbox = buffer  // shared with the other recipients until appended to
            unflushed.append(client)
        } else {
            client.outbox!.writeImmutableBuffer(buffer)
        }
    }

    /// Sends everything queued since the last flush, then starts the history writes of the
    /// same moment: the store's thread must not take the CPU from the sockets first.
    public func flushWrites() {
        sendQueued()
        while !deferredStores.isEmpty {
            let stores = deferredStores
            deferredStores = []
            for store in stores { store() }
            sendQueued()  // what a store that answers at once queued (echoes)
        }
    }

    private func sendQueued() {
        guard !unflushed.isEmpty else { return }
        let clients = unflushed
        unflushed = []
        for client in clients {
            guard let bytes = client.outbox else { continue }
            client.outbox = nil
            client.channel.writeAndFlush(bytes, promise: nil)
        }
    }

    /// Runs `body` on the loop: inline when already there (stores that answer at once),
    /// otherwise queued with the other callbacks of the same moment and run in one loop
    /// task, so a group commit's messages leave in one flush. What `body` needs of the
    /// loop's state travels in a `NIOLoopBound` (see `bound`).
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { return body() }
        let first = completions.withLock { queue -> Bool in
            queue.append(body)
            return queue.count == 1
        }
        guard first else { return }
        eventLoop.execute {
            let bodies = self.completions.withLock { queue -> [@Sendable () -> Void] in
                defer { queue = [] }
                return queue
            }
            for body in bodies { body() }
            self.flushWrites()
        }
    }

    /// `value` of the loop, for a callback from another thread to take back to the loop.
    func bound<T>(_ value: T) -> NIOLoopBound<T> { NIOLoopBound(value, eventLoop: eventLoop) }

    // MARK: for the embedding program

    /// Sets a room's topic as the server (the RTSP side announcing a stream's URL, or nil
    /// when it ends). Call on `eventLoop`.
    public func setTopic(room: String, to topic: String?) {
        let name = ChatText.channel(forRoom: room)
        let key = CaseMapping.fold(name)
        guard let state = rooms[key] else {
            if let topic { pendingTopics[key] = (topic, config.serverName) } else { pendingTopics.removeValue(forKey: key) }
            return
        }
        applyTopic(state, topic ?? "", by: config.serverName)
        state.topicByPublisher = false
        flushWrites()
    }

    /// Asks the room's publishers for a key frame (a viewer starts or resumes and needs one):
    /// a TAGMSG tagged `+chatcast/keyframe` to the members that took `message-tags` (the
    /// elements do; people's clients ignore TAGMSG). At most one per room every 100 ms, which
    /// one key frame answers for everyone. Call on `eventLoop`.
    public func requestKeyFrame(room: String) {
        let name = ChatText.channel(forRoom: room)
        let key = CaseMapping.fold(name)
        guard let state = rooms[key] else { return }
        let t = now()
        if let last = keyFrameRequests[key], t < last + .milliseconds(100) { return }
        keyFrameRequests[key] = t
        let request = IRCMessage(tags: [.init(IRCClient.keyFrameTag, "")], source: config.serverName, command: "TAGMSG", [state.name])
        broadcast(request, to: state.orderedMembers.filter { $0.has("message-tags") })
        flushWrites()
    }

    /// The nicks in a room, in join order; call on `eventLoop`.
    public func nicksInRoom(_ room: String) -> [String] {
        rooms[CaseMapping.fold(ChatText.channel(forRoom: room))]?.orderedMembers.compactMap(\.nick) ?? []
    }

    /// A room's topic; call on `eventLoop`.
    public func topic(ofRoom room: String) -> String? {
        let key = CaseMapping.fold(ChatText.channel(forRoom: room))
        return rooms[key]?.topic ?? pendingTopics[key]?.0
    }

    func applyTopic(_ room: RoomState, _ text: String, by source: String) {
        room.topic = text.isEmpty ? nil : text
        room.topicSetBy = source
        room.topicSetAt = Int(time(nil))
        broadcast(IRCMessage(source: source, command: "TOPIC", [room.name, text]), to: room.orderedMembers)
    }
}
