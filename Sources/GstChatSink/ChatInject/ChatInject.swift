import CGStreamer
import CGstGlue
import ChatCastSEI
import ChatIRC
import GstSwift
import Locking
import YoloCore

/// `chatinject`: writes one ChatCast SEI (≤ 4 KiB) directly before the first slice of each
/// H.264 access unit that has something to carry: chat from the `send` action signal and
/// from a followed `messages-file`, from an IRC room (`server`, `room`, `nick`), chat metas that came through a decoder (relays), and
/// the ROI metas of the buffer as detections. A longer backlog spreads over the next
/// frames (bounded by `max-backlog`, oldest dropped and counted in `dropped`); the last
/// messages are repeated on every IDR frame for late joiners. Every message is made valid
/// as it enters, so any reader accepts what is written.
final class ChatInject: TransformImpl {
    static let elementDescription = ElementDescription(
        typeName: "GstChatInject", elementName: "chatinject", longName: "ChatCast SEI injector",
        classification: "Codec/Muxer/Video", summary: "Carries chat and detections inside H.264 as SEI",
        author: "ChatCast", sinkCaps: ChatParse.caps, srcCaps: ChatParse.caps,
        properties: table.specs + [
            PropertySpec("dropped", nick: "Dropped", blurb: "Messages dropped from a full backlog so far",
                         .uint(min: 0, max: .max, default: 0), mutability: .readOnly),
        ],
        signals: [SignalSpec("send", parameters: [.string, .string, .string], isAction: true)])

    static let log = DebugCategory(name: "chatinject", description: "ChatCast SEI injector")

    static let table = PropertyTable<Settings>([
        .string(PropertySpec("messages-file", nick: "Messages file",
                             blurb: "Text file followed like tail -f: one `nick: text` or JSON message per line",
                             .string(default: nil)), \.messagesFile),
        .bool(PropertySpec("from-start", nick: "From start",
                           blurb: "Read the messages file from its start (default: only lines appended after start)",
                           .bool(default: false)), \.fromStart),
        .string(PropertySpec("server", nick: "Chat server",
                             blurb: "irc://HOST:PORT (or ircs://): every PRIVMSG of `room` goes into the stream",
                             .string(default: nil)), \.server),
        .string(PropertySpec("password", nick: "Server password", blurb: "IRC server password (PASS)", .string(default: nil)),
                \.password),
        .string(PropertySpec("room", nick: "Room", blurb: "IRC room to carry, and room of messages that name none",
                             .string(default: "lobby"), mutability: .playing), \.room, whenUnset: "lobby"),
        .string(PropertySpec("nick", nick: "Nick", blurb: "IRC nick, and nick of messages that name none",
                             .string(default: "chatcast"), mutability: .playing), \.nick, whenUnset: "chatcast"),
        .int(PropertySpec("repeat-count", nick: "Repeat count", blurb: "Recent messages repeated on every IDR frame",
                          .int(min: 0, max: 32, default: 8), mutability: .playing), \.repeatCount),
        .int(PropertySpec("max-backlog", nick: "Max backlog",
                          blurb: "Messages waiting for frames at most; beyond it the oldest is dropped (counted in dropped)",
                          .int(min: 1, max: 1_000_000, default: 1000), mutability: .playing), \.maxBacklog),
        .int(ChatServerTimeout.spec, \.pingInterval),
    ])

    struct Settings {
        var messagesFile: String?
        var server: String?
        var password: String?
        var room = "lobby", nick = "chatcast"
        var repeatCount = 8
        var fromStart = false
        var maxBacklog = 1000
        var pingInterval = ChatServerTimeout.defaultSeconds
    }

    private let element: ElementRef
    private let settings = Mutex(Settings())
    private let backlog = Mutex(ChatBacklog())
    private let drops = DropCounter(what: "chatinject's backlog is full (max-backlog): the oldest messages were dropped")
    private let stream = Mutex(CodedStreamInfo())
    private let follower = Mutex<FileFollower?>(nil)
    private let chat = Mutex<IRCClient?>(nil)
    /// The chat server asked for a key frame (a viewer starts or resumes).
    private let keyFrameWanted = Mutex(false)

    init(element: ElementRef) { self.element = element }

    func setProperty(_ name: String, _ value: PropertyValue) {
        ChatInject.table.set(name, value, in: settings, element: element, log: ChatInject.log)
    }

    func property(_ name: String) -> PropertyValue {
        if name == "dropped" { return .uint(UInt32(clamping: drops.total)) }
        return ChatInject.table.get(name, in: settings)
    }

    /// `send(room, nick, text)`: empty room or nick take the properties' values.
    func action(_ signal: String, _ arguments: [PropertyValue]) -> PropertyValue? {
        let texts = arguments.map { if case let .string(s) = $0 { return s ?? "" } else { return "" } }
        guard texts.count == 3 else { return nil }
        admit { $0.make(room: texts[0], nick: texts[1], text: texts[2]) }
        return nil
    }

    /// Adds the messages `make` gives to the backlog, made valid with the properties' room
    /// and nick as defaults; counts what a full backlog drops.
    private func admit(_ make: (inout ChatBacklog) -> [ChatMessage]) {
        let s = settings.withLock { $0 }
        let dropped = backlog.withLock { b -> Int in
            b.capacity = s.maxBacklog
            return make(&b).reduce(0) { $0 + b.add($1, defaultNick: s.nick, defaultRoom: s.room) }
        }
        drops.dropped(dropped, element: element, property: "dropped")
    }

    private func admit(_ make: (inout ChatBacklog) -> ChatMessage?) {
        admit { b -> [ChatMessage] in make(&b).map { [$0] } ?? [] }
    }

    func start() throws {
        drops.reset()
        let s = settings.withLock { $0 }
        if let server = s.server {
            guard let address = IRCServerAddress(server) else {
                throw ElementError.settings("server=\(server) is not an IRC address: use irc://HOST:PORT or ircs://HOST:PORT")
            }
            let element = self.element
            var options = IRCClient.Options(server: address, nick: s.nick, rooms: [s.room], password: s.password)
            options.pingIntervalSeconds = Double(s.pingInterval)
            let client = IRCClient(options: options) { [weak self] event in
                switch event {
                // Live messages only: history replayed on JOIN predates this stream.
                case let .message(m, replayed): if !replayed { self?.admit { _ in m } }
                case let .disconnected(reason): ChatInject.log.warning(element, "chat server: \(reason); reconnecting")
                case let .notice(text): ChatInject.log.info(element, "chat server: \(text)")
                case .keyFrameWanted: self?.keyFrameWanted.withLock { $0 = true }
                default: break
                }
            }
            client.start()
            chat.withLock { $0 = client }
        }
        guard let path = s.messagesFile else { return }
        let element = self.element
        let follower = FileFollower(path: path, fromStart: s.fromStart, onLine: { [weak self] line in
            guard let self else { return }
            let defaults = self.settings.withLock { $0 }
            var unreadable = false
            self.admit { b -> ChatMessage? in
                let m = b.parse(line: line, defaultRoom: defaults.room, defaultNick: defaults.nick)
                unreadable = m == nil && line.contains("{")
                return m
            }
            if unreadable {
                element.post(.format("\(path): a JSON line that holds no message (unreadable, or no text string) was skipped: \(line.prefix(80))"),
                             warning: true)
            }
        }, onLongLine: { bytes in
            element.post(.format("\(path): a line of \(bytes) bytes (over \(FileFollower.maxLineBytes)) was skipped"),
                         warning: true)
        })
        self.follower.withLock { $0 = follower }
    }

    func stop() throws {
        // Joined with no lock held: its thread's last lines take the settings' lock.
        let following = follower.withLock { f -> FileFollower? in
            defer { f = nil }
            return f
        }
        following?.stop()
        let client = chat.withLock { c -> IRCClient? in
            defer { c = nil }
            return c
        }
        client?.stop()
    }

    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool {
        if let info = CodedStreamInfo(capsEvent: event) { stream.withLock { $0 = info } }
        return true
    }

    func transformInPlace(_ buffer: BufferRef) throws -> FlowOutcome {
        if keyFrameWanted.withLock({ wanted in defer { wanted = false }; return wanted }) { element.requestKeyFrameUpstream() }
        let info = stream.withLock { $0 }
        let repeatCount = settings.withLock { $0.repeatCount }
        let isKeyFrame = cgst_buffer_is_delta_unit(buffer.pointer) == 0
        let detections = frameDetections(buffer, info)
        // Chat that crossed a decoder as metas (a relay) goes out once more.
        let relayed = buffer.chatMessages
        if !relayed.isEmpty { admit { b in relayed.filter { b.isNew($0.id) } } }
        let packed = backlog.withLock { $0.pack(isKeyFrame: isKeyFrame, detections: detections, repeatCount: repeatCount) }
        guard !packed.envelope.isEmpty else { return .ok }
        let nal = UserDataUnregistered(uuid: UserDataUnregistered.chatCastUUID, payload: packed.payload).seiNAL(codec: info.codec)
        var map = GstMapInfo()
        guard gst_buffer_map(buffer.pointer, &map, GST_MAP_READ) != 0 else {
            throw ElementError.failed("chatinject could not map a buffer")
        }
        let inserted = AccessUnit.inserting(nal, into: UnsafeBufferPointer(start: map.data, count: Int(map.size)), format: info.format, codec: info.codec)
        gst_buffer_unmap(buffer.pointer, &map)
        guard let out = inserted else {
            ChatInject.log.warning(element, "an access unit could not be parsed; nothing inserted")
            return .ok
        }
        guard cgst_buffer_replace_bytes(buffer.pointer, out, gsize(out.count)) != 0 else {
            throw ElementError.failed("chatinject got a read-only buffer")
        }
        return .ok
    }

    /// The buffer's ROI metas as detections in the frame's pixels (from the caps; the boxes
    /// themselves when the caps carry no size).
    private func frameDetections(_ buffer: BufferRef, _ info: CodedStreamInfo) -> EnvelopeDetections? {
        let regions = buffer.regionsOfInterest
        guard !regions.isEmpty else { return nil }
        let objects = regions.map(\.labeledDetection)
        let width = info.width > 0 ? info.width : objects.map { $0.x + $0.width }.max() ?? 1
        let height = info.height > 0 ? info.height : objects.map { $0.y + $0.height }.max() ?? 1
        return EnvelopeDetections(width: max(1, width), height: max(1, height), objects: objects)
    }
}
