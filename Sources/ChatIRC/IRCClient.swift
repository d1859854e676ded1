import ChatCastSEI
import NIOCore
import NIOPosix
import NIOSSL
import Locking
#if canImport(Dispatch)
import Dispatch
#endif

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
///
/// A server is input like any other: a line it sends never traps the client, a server that
/// falls silent is pinged and, with no answer, left and reconnected to, and one that stops
/// reading costs at most `sendBufferBytes` (chat beyond it is dropped and counted as
/// `.unsent`). Every method may be called from any thread, `stop` from `onEvent` too.
public final class IRCClient: Sendable {
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
        /// After this long without a line from the server it is sent a PING; after as long
        /// again with none, the connection is given up and made again.
        public var pingIntervalSeconds = 60.0
        /// Bytes the connection may hold unsent (a server that stops reading): beyond them,
        /// lines are dropped, not queued.
        public var sendBufferBytes = 64 * 1024

        public init(server: IRCServerAddress, nick: String, rooms: [String], password: String? = nil) {
            self.server = server
            self.nick = nick
            self.rooms = rooms
            self.password = password
        }
    }

    /// Open `chathistory` batches a server may leave open at once; older ones are forgotten.
    static let maxOpenBatches = 16
    /// Nick refusals (433, 432) taken during one registration before the connection is given up.
    static let maxNickAttempts = 10

    /// What the client knows of its connection; only its event loop touches it.
    private struct Session {
        var channel: Channel?
        var registered = false
        var joined: Set<String> = []
        var queue: [(room: String, text: String)] = []
        /// The server took `echo-message`; without it, echoes are made here.
        var serverEchoes = false
        var attempt = 0
        var currentNick: String
        /// Topics this client sets: sent on every JOIN of their room, so they survive reconnects.
        var ownTopics: [String: String] = [:]
        /// Open `chathistory` batches: reference → room, oldest first.
        var historyBatches: [(reference: String, room: String)] = []
        var localEchoes: UInt64 = 0
        var lastError: Error?
        var nickAttempts = 0
        /// The PING sent to a silent server, whose answer (any line) is awaited until then.
        var pingTimeout: Scheduled<Void>?
        var pings = 0

        init(nick: String) { currentNick = nick }
    }

    private enum Lifecycle { case running, stopped }

    public let options: Options
    private let group: EventLoopGroup
    private let ownsGroup: Bool
    private let loop: EventLoop
    private let onEvent: @Sendable (IRCClientEvent) -> Void
    private let session: NIOLoopBoundBox<Session>
    /// Guards every hand-over to the loop, so none comes after `stop` lets the group go.
    private let lifecycle = Mutex(Lifecycle.running)

    /// `onEvent` runs on the client's event loop: keep it short.
    public init(options: Options, group: EventLoopGroup? = nil, onEvent: @escaping @Sendable (IRCClientEvent) -> Void) {
        self.options = options
        let chosen = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = chosen
        ownsGroup = group == nil
        loop = chosen.next()
        self.onEvent = onEvent
        session = NIOLoopBoundBox.makeBoxSendingValue(Session(nick: options.nick), eventLoop: loop)
    }

    /// The client's events as an async sequence (for `chatcast chat`).
    public static func stream(options: Options) -> (IRCClient, AsyncStream<IRCClientEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: IRCClientEvent.self, bufferingPolicy: .bufferingNewest(1000))
        let client = IRCClient(options: options) { continuation.yield($0) }
        return (client, stream)
    }

    /// Runs `body` on the loop unless the client has stopped.
    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        lifecycle.withLock { state in
            guard case .running = state else { return }
            loop.execute(body)
        }
    }

    public func start() {
        onLoop { self.connect() }
    }

    /// Sends QUIT, closes, and stops reconnecting; nothing sent afterwards goes anywhere.
    /// From another thread it waits (at most 5 s) until the connection is closed; from an
    /// event loop (`onEvent` included) it returns at once and the closing goes on.
    public func stop(message: String = "Leaving") {
        let wasRunning = lifecycle.withLock { state -> Bool in
            guard case .running = state else { return false }
            state = .stopped
            return true
        }
        guard wasRunning else { return }
        let closed = loop.makePromise(of: Void.self)
        let closing: @Sendable () -> Void = {
            var session = self.session.value
            session.pingTimeout?.cancel()
            session.pingTimeout = nil
            self.session.value = session
            guard let channel = session.channel else { return closed.succeed() }
            self.write(IRCMessage(command: "QUIT", [message]))
            channel.close(promise: nil)
            channel.closeFuture.whenComplete { _ in closed.succeed() }
        }
        if loop.inEventLoop { closing() } else { loop.execute(closing) }
        let group = self.group, owned = ownsGroup
        guard MultiThreadedEventLoopGroup.currentEventLoop == nil else {
            // On an event loop nothing may wait: the group goes once the connection is closed.
            if owned { closed.futureResult.whenComplete { _ in DispatchQueue.global().async { try? group.syncShutdownGracefully() } } }
            return
        }
        let done = DispatchSemaphore(value: 0)
        closed.futureResult.whenComplete { _ in done.signal() }
        _ = done.wait(timeout: .now() + 5)
        if owned { try? group.syncShutdownGracefully() }
    }

    /// Sends `text` to `room` now, or once (re)joined. Long text is split so that every
    /// line stays within IRC's 512 bytes.
    public func send(room: String, text: String) {
        onLoop {
            let channelName = ChatText.channel(forRoom: room)
            for part in Self.split(text, limit: 400) {
                let session = self.session.value
                if session.registered && session.joined.contains(CaseMapping.fold(channelName)) {
                    self.privmsg(channelName, part)
                } else {
                    var over = false
                    self.session.withValue { s in
                        s.queue.append((channelName, part))
                        if s.queue.count > self.options.maxQueued {
                            s.queue.removeFirst()
                            over = true
                        }
                    }
                    if over { self.onEvent(.unsent(count: 1)) }
                }
            }
        }
    }

    /// Asks for a room's topic; the answer arrives as `.topic`.
    public func requestTopic(room: String) {
        onLoop { self.write(IRCMessage(command: "TOPIC", [ChatText.channel(forRoom: room)])) }
    }

    /// Sets `room`'s topic now if joined, and again after every (re)join. On ChatCast's
    /// server this needs publisher rights (PASS); a refusal arrives as a `.notice` (482).
    /// An empty text clears it and stops re-sending it.
    public func setTopic(room: String, to text: String) {
        onLoop {
            let channelName = ChatText.channel(forRoom: room)
            let key = CaseMapping.fold(channelName)
            let joined = self.session.withValue { s -> Bool in
                s.ownTopics[key] = text.isEmpty ? nil : text
                return s.registered && s.joined.contains(key)
            }
            if joined { self.write(IRCMessage(command: "TOPIC", [channelName, text])) }
        }
    }

    /// The local address of the connection (the one the server sees), once connected.
    public func localAddress() -> String? {
        guard lifecycle.withLock({ if case .running = $0 { true } else { false } }),
              MultiThreadedEventLoopGroup.currentEventLoop == nil else { return nil }
        return try? loop.submit { self.session.value.channel?.localAddress?.ipAddress }.wait()
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

    private var isStopped: Bool { lifecycle.withLock { if case .stopped = $0 { true } else { false } } }

    // MARK: connection (on the loop)

    private func connect() {
        guard !isStopped else { return }
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
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: options.sendBufferBytes / 2, high: options.sendBufferBytes))
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let host = options.server.host
                        let isName = host.first.map { !$0.isNumber && $0 != "[" } ?? false
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isName ? host : nil))
                    }
                    try self.addHandlers(to: channel.pipeline.syncOperations)
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

    /// The client's handlers on a connection's pipeline (after TLS, when there is TLS). The
    /// fuzzer (Fuzz/IRCClient) puts them on an EmbeddedChannel to play a whole server session.
    func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(IdleStateHandler(readTimeout: .nanoseconds(Int64(options.pingIntervalSeconds * 1e9))))
        try pipeline.addHandler(ByteToMessageHandler(IRCLineDecoder(maxLineBytes: 8191 + 512)))
        try pipeline.addHandler(ClientHandler(client: self))
    }

    private func failed(_ reason: String) {
        let attempt = session.withValue { s -> Int in
            s.channel = nil
            s.registered = false
            s.serverEchoes = false
            s.joined = []
            s.historyBatches = []
            s.nickAttempts = 0
            s.pingTimeout?.cancel()
            s.pingTimeout = nil
            s.attempt += 1
            return s.attempt
        }
        guard !isStopped else { return }
        onEvent(.disconnected(reason: reason))
        guard options.reconnect else { return }
        let delay = min(options.maxBackoffSeconds, 0.5 * Double(1 << min(attempt - 1, 10)))
        loop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) { self.connect() }
    }

    private func privmsg(_ channelName: String, _ text: String) {
        write(IRCMessage(command: "PRIVMSG", [channelName, text]))
        guard options.echo, !session.value.serverEchoes else { return }
        let (nick, n) = session.withValue { s -> (String, UInt64) in
            s.localEchoes += 1
            return (s.currentNick, s.localEchoes)
        }
        onEvent(.message(ChatMessage(id: "local-\(nick)-\(n)", room: ChatText.room(forChannel: channelName),
                                     nick: nick, text: ChatText.strippingControls(text), time: ChatMessageFactory.now()),
                         replayed: false))
    }

    /// Writes a line unless the server has stopped reading (more than `sendBufferBytes`
    /// unsent): then it is dropped, and chat lines among them are counted as `.unsent`.
    fileprivate func write(_ message: IRCMessage) {
        guard let channel = session.value.channel else { return }
        guard channel.isWritable else {
            if message.command == "PRIVMSG" { onEvent(.unsent(count: 1)) }
            return
        }
        var buffer = channel.allocator.buffer(capacity: 128)
        buffer.writeString(message.serialized)
        channel.writeAndFlush(buffer, promise: nil)
    }

    fileprivate func active(_ channel: Channel) {
        // A connection that was still being made when stop() came is not kept.
        guard !isStopped else { return channel.close(promise: nil) }
        session.withValue { s in
            s.channel = channel
            s.nickAttempts = 0
        }
        write(IRCMessage(command: "CAP", ["LS", "302"]))
        if let password = options.password { write(IRCMessage(command: "PASS", [password])) }
        write(IRCMessage(command: "NICK", [session.value.currentNick]))
        write(IRCMessage(command: "USER", [String(options.nick.prefix(10)), "0", "*", "ChatCast"]))
    }

    fileprivate func inactive() {
        let reason = session.withValue { s -> String in
            defer { s.lastError = nil }
            return s.lastError.map { "connection closed: \($0)" } ?? "connection closed"
        }
        failed(reason)
    }

    fileprivate func error(_ error: Error) { session.withValue { $0.lastError = error } }

    /// Nothing heard for `pingIntervalSeconds`: ping, and give the connection up if the
    /// server stays silent as long again.
    fileprivate func silent(_ channel: Channel) {
        guard session.value.pingTimeout == nil else { return }
        let timeout = TimeAmount.nanoseconds(Int64(options.pingIntervalSeconds * 1e9))
        let seconds = Int(options.pingIntervalSeconds * 2)
        let n = session.withValue { s -> Int in
            s.pings += 1
            return s.pings
        }
        write(IRCMessage(command: "PING", ["chatcast-\(n)"]))
        let task = loop.scheduleTask(in: timeout) {
            self.session.withValue { $0.lastError = PingTimeout(seconds: seconds) }
            channel.close(promise: nil)
        }
        session.withValue { $0.pingTimeout = task }
    }

    /// Any line from the server shows it is there.
    fileprivate func heard() {
        session.withValue { s in
            s.pingTimeout?.cancel()
            s.pingTimeout = nil
        }
    }

    fileprivate func received(_ m: IRCMessage) {
        switch m.command {
        case "PING":
            write(IRCMessage(command: "PONG", m.parameters))
        case "CAP":
            guard m.parameters.count >= 3 else { return }
            switch m.parameters[1] {
            case "LS":
                // A capability may carry a value (`sasl=PLAIN`); a bare `=` or an empty token names nothing.
                let offered = Set(m.parameters[m.parameters.count - 1].split(separator: " ").map { String($0.prefix { $0 != "=" }) })
                let wanted = ["message-tags", "server-time", "batch"] + (options.echo ? ["echo-message"] : [])
                let request = wanted.filter(offered.contains)
                if request.isEmpty { write(IRCMessage(command: "CAP", ["END"])) } else {
                    write(IRCMessage(command: "CAP", ["REQ", request.joined(separator: " ")]))
                }
            case "ACK":
                let echoes = m.parameters[2].split(separator: " ").contains("echo-message")
                session.withValue { $0.serverEchoes = echoes }
                write(IRCMessage(command: "CAP", ["END"]))
            case "NAK": write(IRCMessage(command: "CAP", ["END"]))
            default: break
            }
        case "001":
            // The welcome names the nick it welcomes; one that names none is no welcome.
            guard let welcomed = m.parameters.first, !welcomed.isEmpty, !session.value.registered else { return }
            let nick = session.withValue { s -> String in
                s.registered = true
                s.attempt = 0
                s.currentNick = welcomed
                return welcomed
            }
            onEvent(.connected(nick: nick))
            for room in options.rooms { write(IRCMessage(command: "JOIN", [ChatText.channel(forRoom: room)])) }
        case "433", "432":
            let (registered, attempts) = session.withValue { ($0.registered, $0.nickAttempts) }
            guard !registered else { return onEvent(.notice(m.parameters.last ?? "nick refused")) }
            // A server that refuses every nick would have us ask forever.
            guard attempts < Self.maxNickAttempts else {
                session.withValue { $0.lastError = NicksRefused(count: attempts) }
                session.value.channel?.close(promise: nil)
                return
            }
            let nick = session.withValue { s -> String in
                s.nickAttempts += 1
                s.currentNick = String((s.currentNick + "_").suffix(30))
                return s.currentNick
            }
            write(IRCMessage(command: "NICK", [nick]))
        case "JOIN":
            let current = session.value.currentNick
            guard m.sourceNick.map(CaseMapping.fold) == CaseMapping.fold(current), let name = m.parameters.first, !name.isEmpty else { return }
            let key = CaseMapping.fold(name)
            let (waiting, topic) = session.withValue { s -> ([(room: String, text: String)], String?) in
                s.joined.insert(key)
                let waiting = s.queue.filter { CaseMapping.fold($0.room) == key }
                s.queue.removeAll { CaseMapping.fold($0.room) == key }
                return (waiting, s.ownTopics[key])
            }
            onEvent(.joined(room: ChatText.room(forChannel: name)))
            for item in waiting { privmsg(item.room, item.text) }
            if let topic { write(IRCMessage(command: "TOPIC", [name, topic])) }
        case "BATCH":
            guard let ref = m.parameters.first, ref.count > 1 else { return }
            let reference = String(ref.dropFirst())
            if ref.hasPrefix("+"), m.parameters.count > 2, m.parameters[1] == "chathistory" {
                let room = ChatText.room(forChannel: m.parameters[2])
                session.withValue { s in
                    s.historyBatches.removeAll { $0.reference == reference }
                    s.historyBatches.append((reference, room))
                    if s.historyBatches.count > Self.maxOpenBatches { s.historyBatches.removeFirst() }
                }
            } else if ref.hasPrefix("-") {
                let closed = session.withValue { s -> String? in
                    guard let index = s.historyBatches.firstIndex(where: { $0.reference == reference }) else { return nil }
                    return s.historyBatches.remove(at: index).room
                }
                if let closed { onEvent(.historyEnd(room: closed)) }
            }
        case "PRIVMSG":
            // Chat of a room this client is in, from someone: a server that sends anything else
            // (another room's lines, a line from nobody) is not believed.
            guard m.parameters.count == 2, m.parameters[0].hasPrefix("#"), let nick = m.sourceNick, !nick.isEmpty,
                  session.value.joined.contains(CaseMapping.fold(m.parameters[0])) else { return }
            let replayed = m.tag("batch").map { batch in session.value.historyBatches.contains { $0.reference == batch } } ?? false
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
            if !isStopped { onEvent(.notice(m.parameters.last ?? "error")) }
        default:
            // Errors worth showing; 422 (no MOTD) is routine.
            if m.command.count == 3, m.command != "422", let code = Int(m.command), (400..<600).contains(code),
               let text = m.parameters.last {
                onEvent(.notice("\(m.command) \(text)"))
            }
        }
    }
}

/// The server answered nothing, not even a PING, for this long.
struct PingTimeout: Error, CustomStringConvertible {
    let seconds: Int
    var description: String { "no answer from the server for \(seconds) s (ping timeout)" }
}

/// The server refused every nick tried.
struct NicksRefused: Error, CustomStringConvertible {
    let count: Int
    var description: String { "the server refused \(count) nicks in a row" }
}

/// Lines in, connection events in; everything goes to the client on its loop.
private final class ClientHandler: ChannelInboundHandler {
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
        client.heard()
        guard case let .line(buffer) = unwrapInboundIn(data), let message = try? IRCMessage.parse(buffer.readableBytesView)
        else { return }
        client.received(message)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            client.silent(context.channel)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.error(error)
        context.close(promise: nil)
    }
}
