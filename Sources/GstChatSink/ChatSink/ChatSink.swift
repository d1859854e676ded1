#if canImport(Glibc)
import Glibc
#endif
import CGStreamer
import CGstGlue
import ChatCastSEI
import ChatIRC
import GstSwift
import Locking
import YoloCore

/// `chatsink`: writes the JSON lines of DESIGN.md — one `chat` line per chat meta and one
/// `detections` line per buffer that carries ROI metas — to stdout or `location`, flushed
/// per line so `tail -f` follows it. `sync` defaults to false, as for filesink. With
/// `server` and `room` it also forwards chat found in the stream to that IRC room, skipping
/// ids the room already has (messages that came from it).
final class ChatSink: SinkImpl {
    static let elementDescription = ElementDescription(
        typeName: "GstChatSink", elementName: "chatsink", longName: "ChatCast JSON lines sink", classification: "Sink",
        summary: "Writes chat and detections as JSON lines", author: "ChatCast", sinkCaps: "ANY", srcCaps: nil,
        properties: table.specs + [
            PropertySpec("dropped", nick: "Dropped",
                         blurb: "Chat not forwarded because the IRC server stayed unreachable (oldest dropped first)",
                         .uint(min: 0, max: .max, default: 0), mutability: .readOnly)])

    static let log = DebugCategory(name: "chatsink", description: "ChatCast JSON lines sink")

    static let table = PropertyTable<Settings>([
        .string(PropertySpec("location", nick: "Location", blurb: "File to write (unset = standard output)",
                             .string(default: nil)), \.location),
        .string(PropertySpec("server", nick: "Chat server", blurb: "irc://HOST:PORT (or ircs://) to forward chat to",
                             .string(default: nil)), \.server),
        .string(PropertySpec("password", nick: "Server password", blurb: "IRC server password (PASS)", .string(default: nil)),
                \.password),
        .string(PropertySpec("room", nick: "Room", blurb: "IRC room chat is forwarded to", .string(default: "lobby")),
                \.room, whenUnset: "lobby"),
        .string(PropertySpec("nick", nick: "Nick", blurb: "IRC nick of the forwarder", .string(default: "chatsink")),
                \.nick, whenUnset: "chatsink"),
        .int(ChatServerTimeout.spec, \.pingInterval),
    ])

    struct Settings {
        var location: String?
        var server: String?
        var password: String?
        var room = "lobby"
        var nick = "chatsink"
        var pingInterval = ChatServerTimeout.defaultSeconds
    }

    private let element: ElementRef
    private let settings = Mutex(Settings())
    private let forwarder = Mutex<Forwarder?>(nil)
    private let drops = DropCounter(
        what: "chatsink's forwarding queue is full while the chat server is unreachable: the oldest messages were dropped")
    private let stream = Mutex(CodedStreamInfo())
    /// The open output; only the streaming thread and start/stop touch it.
    private let output = Mutex<UnsafeMutablePointer<FILE>?>(nil)

    init(element: ElementRef) {
        self.element = element
        // Like filesink: lines are written as they arrive, not held to the clock (a viewer of
        // a finished RTSP stream would otherwise wait for an EOS that 1.22 never delivers).
        gst_base_sink_set_sync(UnsafeMutableRawPointer(element.pointer).assumingMemoryBound(to: GstBaseSink.self), 0)
    }

    func setProperty(_ name: String, _ value: PropertyValue) {
        ChatSink.table.set(name, value, in: settings, element: element, log: ChatSink.log)
    }

    func property(_ name: String) -> PropertyValue {
        if name == "dropped" { return .uint(UInt32(clamping: drops.total)) }
        return ChatSink.table.get(name, in: settings)
    }

    func start() throws {
        drops.reset()
        let s = settings.withLock { $0 }
        if let server = s.server {
            guard let address = IRCServerAddress(server) else {
                throw ElementError.settings("server=\(server) is not an IRC address: use irc://HOST:PORT or ircs://HOST:PORT")
            }
            var options = IRCClient.Options(server: address, nick: s.nick, rooms: [s.room], password: s.password)
            options.pingIntervalSeconds = Double(s.pingInterval)
            let forwarder = Forwarder(options: options, room: s.room, element: element, drops: drops)
            self.forwarder.withLock { $0 = forwarder }
        }
        guard let path = s.location else {
            output.withLock { $0 = standardOutput }
            return
        }
        try output.withLock { out in
            guard let file = fopen(path, "w") else {
                throw ElementError.resourceRead("\(path): \(String(cString: strerror(errno))). Set location= to a writable file.")
            }
            out = file
        }
    }

    func stop() throws {
        forwarder.withLock { f -> Forwarder? in
            defer { f = nil }
            return f
        }?.stop()
        output.withLock { file in
            if let f = file, f != standardOutput { fclose(f) }
            file = nil
        }
    }

    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool {
        if let info = CodedStreamInfo(capsEvent: event) { stream.withLock { $0 = info } }
        return true
    }

    func render(_ buffer: BufferRef) throws -> FlowOutcome {
        let pts = buffer.pts
        let chat = buffer.chatMessages
        if !chat.isEmpty, let forwarder = forwarder.withLock({ $0 }) { forwarder.forward(chat) }
        var lines = chat.map { ChatLine.json($0, pts: pts) }
        let regions = buffer.regionsOfInterest
        if !regions.isEmpty {
            let info = stream.withLock { $0 }
            let objects = regions.map(\.labeledDetection)
            lines.append(DetectionsLine.json(pts: pts, width: info.width, height: info.height, objects: objects))
        }
        guard !lines.isEmpty else { return .ok }
        try output.withLock { file in
            guard let file else { return }
            for line in lines where fputs(line + "\n", file) < 0 {
                throw ElementError.failed("chatsink could not write: \(String(cString: strerror(errno)))")
            }
            fflush(file)
        }
        return .ok
    }
}

/// The C library's stdout stream (Swift sees the global as a mutable `var`).
private var standardOutput: UnsafeMutablePointer<FILE> { cgst_stdout() }
