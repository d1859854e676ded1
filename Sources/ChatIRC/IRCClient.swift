import ChatCastSEI
import NIOCore
import NIOPosix
import NIOSSL

/// What an `IRCClient` reports.
public enum IRCClientEvent: Sendable, Equatable {
    /// Registered with the server under this nick.
    case connected(nick: String)
    case joined(room: String)
    /// The room's history replay (a `chathistory` batch) has ended.
    case historyEnd(room: String)
    /// A PRIVMSG of a joined room; the id is the server's msgid where it gives one.
    /// `replayed` marks history sent on JOIN.
    case message(ChatMessage, replayed: Bool)
    /// The room's topic: its RTSP URL in ChatCast ("Play Video").
    case topic(room: String, text: String)
    /// A NOTICE or error numeric worth showing.
    case notice(String)
    /// The server asks the room's publishers for a key frame (a viewer starts or resumes):
    /// an IRCv3 TAGMSG with the `+chatcast/keyframe` tag.
    case keyFrameWanted(room: String)
    case disconnected(reason: String)
    /// Messages sent while disconnected went beyond `maxQueued`: this many of the oldest
    /// were dropped.
    case unsent(count: Int)
}

/// An IRC client for the elements and the terminal client: connects (plain or TLS),
/// registers, negotiates capabilities, joins its rooms, sends, reports what it hears, and
/// reconnects with backoff, re-joining its rooms. Works against any RFC 2812 server; uses
/// IRCv3 tags where the server offers them.
public final class IRCClient: @unchecked Sendable {
    public struct Options: Sendable {
        public var server: IRCServerAddress
        public var nick: String
        public var password: String?
        public var rooms: [String]
        /// Have our own messages echoed back with the server's id and time.
        public var echo = false
        public var reconnect = true
        public var maxBackoffSeconds = 30.0
        /// Messages kept while disconnected; the oldest go first beyond it.
        public var maxQueued = 200
        /// PEM file of a certificate (or CA) to trust for ircs:// besides the system's, e.g. a
        /// self-signed server certificate.
        public var trustedCertificate: String?

        public init(server: IRCServerAddress, nick: String, rooms: [String], password: String? = nil) {
            self.server = server
            self.nick = nick
            self.rooms = rooms
            self.password = password
        }
    }

    public let options: Options
    private let group: EventLoopGroup
    private let ownsGroup: Bool
    private let loop: EventLoop
    private let onEvent: @Sendable (IRCClientEvent) -> Void
    // Loop-confined state.
    private var channel: Channel?
    private var registered = false
    private var joined: Set<String> = []
    private var queue: [(room: String, text: String)] = []
    private var stopped = false
    /// The server took `echo-message`; without it, echoes are made here.
    private var serverEchoes = false
    private var attempt = 0
    private(set) var currentNick: String
    /// Topics this client sets: sent on every JOIN of their room, so they survive reconnects.
    private var ownTopics: [String: String] = [:]

    /// `onEvent` runs on the client's event loop: keep it short.
    public init(options: Options, group: EventLoopGroup? = nil, onEvent: @escaping @Sendable (IRCClientEvent) -> Void) {
        self.options = options
        if let group {
            self.group = group
            ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownsGroup = true
        }
        loop = self.group.next()
        self.onEvent = onEvent
        currentNick = options.nick
    }

    /// The client's events as an async sequence (for `chatcast chat`).
    public static func stream(options: Options) -> (IRCClient, AsyncStream<IRCClientEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: IRCClientEvent.self, bufferingPolicy: .bufferingNewest(1000))
        let client = IRCClient(options: options) { continuation.yield($0) }
        return (client, stream)
    }

    public func start() {
        loop.execute { self.connect() }
    }

    /// Sends QUIT, closes, and stops reconnecting. Waits until the connection is closed.
    public func stop(message: String = "Leaving") {
        let done = loop.submit { () -> EventLoopFuture<Void> in
            self.stopped = true
            guard let channel = self.channel else { return self.loop.makeSucceededVoidFuture() }
            self.write(IRCMessage(command: "QUIT", [message]))
            return channel.close().recover { _ in }
        }.flatMap { $0 }
        try? done.wait()
        if ownsGroup { try? group.syncShutdownGracefully() }
    }

    /// Sends `text` to `room` now, or once (re)joined. Long text is split so that every
    /// line stays within IRC's 512 bytes.
    public func send(room: String, text: String) {
        loop.execute {
            let channelName = ChatText.channel(forRoom: room)
            for part in Self.split(text, limit: 400) {
                if self.registered && self.joined.contains(CaseMapping.fold(channelName)) {
                    self.privmsg(channelName, part)
                } else {
                    self.queue.append((channelName, part))
                    if self.queue.count > self.options.maxQueued {
                        self.queue.removeFirst()
                        self.onEvent(.unsent(count: 1))
                    }
                }
            }
        }
    }

    /// Asks for a room's topic; the answer arrives as `.topic`.
    public func requestTopic(room: String) {
        loop.execute { self.write(IRCMessage(command: "TOPIC", [ChatText.channel(forRoom: room)])) }
    }

    /// Sets `room`'s topic now if joined, and again after every (re)join. On ChatCast's
    /// server this needs publisher rights (PASS); a refusal arrives as a `.notice` (482).
    /// An empty text clears it and stops re-sending it.
    public func setTopic(room: String, to text: String) {
        loop.execute {
            let channelName = ChatText.channel(forRoom: room)
            let key = CaseMapping.fold(channelName)
            self.ownTopics[key] = text.isEmpty ? nil : text
            if self.registered && self.joined.contains(key) { self.write(IRCMessage(command: "TOPIC", [channelName, text])) }
        }
    }

    /// The local address of the connection (the one the server sees), once connected.
    public func localAddress() -> String? {
        try? loop.submit { self.channel?.localAddress?.ipAddress }.wait()
    }

    /// The client tag of the server's key-frame requests.
    public static let keyFrameTag = "+chatcast/keyframe"

    /// Pieces of at most `limit` UTF-8 bytes, split between characters.
    public static func split(_ text: String, limit: Int = 400) -> [String] {
        var parts: [String] = [], current = ""
        for ch in text {
            if current.utf8.count + ch.utf8.count > limit {
                parts.append(current)
                current = ""
            }
            current.append(ch)
        }
        if !current.isEmpty || parts.isEmpty { parts.append(current) }
        return parts
    }

    // MARK: connection (on the loop)

    private func connect() {
        guard !stopped else { return }
        let options = self.options
        let sslContext: NIOSSLContext?
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let pem = options.trustedCertificate {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pem))
            }
            sslContext = options.server.tls ? try NIOSSLContext(configuration: tls) : nil
        } catch {
            return failed("TLS setup failed: \(error)")
        }
        let handler = ClientHandler(client: self)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let host = options.server.host
                        let isName = host.first.map { !$0.isNumber && $0 != "[" } ?? false
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isName ? host : nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(IRCLineDecoder(maxLineBytes: 8191 + 512)))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: options.server.host, port: options.server.port)
            .whenComplete { result in
                switch result {
                case .success: break  // channelActive took the channel
                case let .failure(error): self.failed("cannot connect to \(options.server): \(error)")
                }
            }
    }

    private func failed(_ reason: String) {
        channel = nil
        registered = false
        serverEchoes = false
        joined = []
        guard !stopped else { return }
        onEvent(.disconnected(reason: reason))
        guard options.reconnect else { return }
        attempt += 1
        let delay = min(options.maxBackoffSeconds, 0.5 * Double(1 << min(attempt - 1, 10)))
        loop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) { self.connect() }
    }

    private var localEchoes: UInt64 = 0

    private func privmsg(_ channelName: String, _ text: String) {
        write(IRCMessage(command: "PRIVMSG", [channelName, text]))
        guard options.echo, !serverEchoes else { return }
        localEchoes += 1
        onEvent(.message(ChatMessage(id: "local-\(currentNick)-\(localEchoes)", room: ChatText.room(forChannel: channelName),
                                     nick: currentNick, text: ChatText.strippingControls(text), time: ChatMessageFactory.now()),
                         replayed: false))
    }

    fileprivate func write(_ message: IRCMessage) {
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: 128)
        buffer.writeString(message.serialized)
        channel.writeAndFlush(buffer, promise: nil)
    }

    fileprivate func active(_ channel: Channel) {
        self.channel = channel
        write(IRCMessage(command: "CAP", ["LS", "302"]))
        if let password = options.password { write(IRCMessage(command: "PASS", [password])) }
        write(IRCMessage(command: "NICK", [currentNick]))
        write(IRCMessage(command: "USER", [String(options.nick.prefix(10)), "0", "*", "ChatCast"]))
    }

    private var lastError: Error?

    fileprivate func inactive() {
        failed(lastError.map { "connection closed: \($0)" } ?? "connection closed")
        lastError = nil
    }

    fileprivate func error(_ error: Error) { lastError = error }

    /// Open `chathistory` batches: reference → room.
    private var inHistoryBatch: [String: String] = [:]

    fileprivate func received(_ m: IRCMessage) {
        switch m.command {
        case "PING":
            write(IRCMessage(command: "PONG", m.parameters))
        case "CAP":
            guard m.parameters.count >= 3 else { return }
            switch m.parameters[1] {
            case "LS":
                let offered = Set(m.parameters.last!.split(separator: " ").map { String($0.split(separator: "=")[0]) })
                let wanted = ["message-tags", "server-time", "batch"] + (options.echo ? ["echo-message"] : [])
                let request = wanted.filter(offered.contains)
                if request.isEmpty { write(IRCMessage(command: "CAP", ["END"])) } else {
                    write(IRCMessage(command: "CAP", ["REQ", request.joined(separator: " ")]))
                }
            case "ACK":
                serverEchoes = m.parameters[2].split(separator: " ").contains("echo-message")
                write(IRCMessage(command: "CAP", ["END"]))
            case "NAK": write(IRCMessage(command: "CAP", ["END"]))
            default: break
            }
        case "001":
            registered = true
            attempt = 0
            if let nick = m.parameters.first { currentNick = nick }
            onEvent(.connected(nick: currentNick))
            for room in options.rooms { write(IRCMessage(command: "JOIN", [ChatText.channel(forRoom: room)])) }
        case "433", "432":
            guard !registered else { return onEvent(.notice(m.parameters.last ?? "nick refused")) }
            currentNick = String((currentNick + "_").suffix(30))
            write(IRCMessage(command: "NICK", [currentNick]))
        case "JOIN":
            guard m.sourceNick.map(CaseMapping.fold) == CaseMapping.fold(currentNick), let name = m.parameters.first else { return }
            joined.insert(CaseMapping.fold(name))
            onEvent(.joined(room: ChatText.room(forChannel: name)))
            let waiting = queue.filter { CaseMapping.fold($0.room) == CaseMapping.fold(name) }
            queue.removeAll { CaseMapping.fold($0.room) == CaseMapping.fold(name) }
            for item in waiting { privmsg(item.room, item.text) }
            if let topic = ownTopics[CaseMapping.fold(name)] { write(IRCMessage(command: "TOPIC", [name, topic])) }
        case "BATCH":
            guard let ref = m.parameters.first else { return }
            if ref.hasPrefix("+"), m.parameters.count > 2, m.parameters[1] == "chathistory" {
                inHistoryBatch[String(ref.dropFirst())] = ChatText.room(forChannel: m.parameters[2])
            } else if ref.hasPrefix("-"), let room = inHistoryBatch.removeValue(forKey: String(ref.dropFirst())) {
                onEvent(.historyEnd(room: room))
            }
        case "PRIVMSG":
            guard m.parameters.count == 2, m.parameters[0].hasPrefix("#"), let nick = m.sourceNick else { return }
            let replayed = m.tag("batch").map { inHistoryBatch[$0] != nil } ?? false
            let message = ChatMessage(id: m.tag("msgid") ?? "irc-\(nick)-\(m.tag("time") ?? ChatMessageFactory.now())",
                                      room: ChatText.room(forChannel: m.parameters[0]), nick: nick,
                                      text: ChatText.strippingControls(m.parameters[1]),
                                      time: m.tag("time") ?? ChatMessageFactory.now())
            onEvent(.message(message, replayed: replayed))
        case "332":
            guard m.parameters.count >= 3 else { return }
            onEvent(.topic(room: ChatText.room(forChannel: m.parameters[1]), text: m.parameters[2]))
        case "331":
            guard m.parameters.count >= 2 else { return }
            onEvent(.topic(room: ChatText.room(forChannel: m.parameters[1]), text: ""))
        case "TOPIC":
            guard m.parameters.count >= 2 else { return }
            onEvent(.topic(room: ChatText.room(forChannel: m.parameters[0]), text: m.parameters[1]))
        case "NOTICE":
            if let text = m.parameters.last { onEvent(.notice(text)) }
        case "TAGMSG":
            guard m.tag(IRCClient.keyFrameTag) != nil, let target = m.parameters.first, target.hasPrefix("#") else { return }
            onEvent(.keyFrameWanted(room: ChatText.room(forChannel: target)))
        case "ERROR":
            if !stopped { onEvent(.notice(m.parameters.last ?? "error")) }
        default:
            // Errors worth showing; 422 (no MOTD) is routine.
            if m.command.count == 3, m.command != "422", let code = Int(m.command), (400..<600).contains(code),
               let text = m.parameters.last {
                onEvent(.notice("\(m.command) \(text)"))
            }
        }
    }
}

/// Lines in, connection events in; everything goes to the client on its loop.
private final class ClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = IRCInboundLine
    private let client: IRCClient

    init(client: IRCClient) { self.client = client }

    func channelActive(context: ChannelHandlerContext) {
        client.active(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.inactive()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .line(buffer) = unwrapInboundIn(data), let message = try? IRCMessage.parse(buffer.readableBytesView)
        else { return }
        client.received(message)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.error(error)
        context.close(promise: nil)
    }
}
