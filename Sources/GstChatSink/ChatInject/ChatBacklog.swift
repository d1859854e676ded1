import ChatCastSEI

/// chatinject's chat waiting for a frame, and the recent messages repeated on key frames.
/// Every message is made valid as it enters (`ChatLimits`), so whatever is written is read
/// back. Bounded: beyond `capacity` the oldest waiting message goes (live chat keeps the
/// newest), and the caller counts it.
struct ChatBacklog {
    var capacity = 1000
    private(set) var waiting: [ChatMessage] = []
    private var recent: [ChatMessage] = []
    private var injected = RecentIDs()
    private var factory = ChatMessageFactory()

    /// Adds `message` made valid; returns how many waiting messages were dropped for it.
    mutating func add(_ message: ChatMessage, defaultNick: String, defaultRoom: String) -> Int {
        var fresh = factory
        let valid = ChatLimits.apply(message, defaultNick: defaultNick, defaultRoom: defaultRoom,
                                     freshID: { fresh.make(room: "", nick: "", text: "").id })
        factory = fresh
        waiting.append(valid)
        let over = waiting.count - max(1, capacity)
        guard over > 0 else { return 0 }
        waiting.removeFirst(over)
        return over
    }

    /// A new message typed locally (`send`).
    mutating func make(room: String, nick: String, text: String) -> ChatMessage {
        factory.make(room: room, nick: nick, text: text)
    }

    /// A line of a messages file, or nil when it holds no message.
    mutating func parse(line: String, defaultRoom: String, defaultNick: String) -> ChatMessage? {
        factory.parseLine(line, defaultRoom: defaultRoom, defaultNick: defaultNick)
    }

    /// Whether `id` was not injected yet (chat metas from a decoder go out once more).
    mutating func isNew(_ id: String) -> Bool { injected.insert(id) }

    /// The next envelope: on key frames the recent messages first (for late joiners), then
    /// waiting chat in order, beside `detections`.
    mutating func pack(isKeyFrame: Bool, detections: EnvelopeDetections?, repeatCount: Int) -> EnvelopePacker.Packed {
        let repeated = isKeyFrame ? recent.filter { r in !waiting.contains { $0.id == r.id } } : []
        let packed = EnvelopePacker.pack(repeated: repeated, chat: waiting, detections: detections.map(DetectionLimits.apply))
        let sent = waiting.prefix(packed.sent)
        waiting.removeFirst(packed.sent)
        for m in sent { _ = injected.insert(m.id) }
        recent = Array((recent + sent).suffix(repeatCount))
        return packed
    }
}
