/// The limits every chat message obeys in the video, applied where a message enters a
/// writer (`send`, a messages file, IRC, relayed metas) so that whatever a writer emits, the
/// reader (`EnvelopeDecoder`) accepts. Text is cut at a character boundary; nick, room, id
/// and time are made valid rather than refused, so no input silences the stream's chat.
public enum ChatLimits {
    public static let maxTextCharacters = EnvelopeDecoder.maxTextCharacters
    /// Any one message fits in chat's share of an envelope (`EnvelopePacker.chatShare`),
    /// however its text escapes in JSON (`"` doubles, U+2028 grows to six bytes).
    public static let maxMessageJSONBytes = 1800
    public static let maxNickCharacters = 32
    public static let maxRoomCharacters = 64
    public static let maxIDCharacters = 64
    public static let maxTimeCharacters = 40

    /// `message` made valid: defaults for an empty (or, after cleaning, empty) nick or room,
    /// a fresh id for one that is missing, too long or not printable ASCII, the current time
    /// for a bad one, and text without control characters, cut to the limits.
    public static func apply(_ message: ChatMessage, defaultNick: String, defaultRoom: String,
                             freshID: () -> String) -> ChatMessage {
        var m = message
        m.nick = name(m.nick, max: maxNickCharacters) ?? name(defaultNick, max: maxNickCharacters) ?? "chatcast"
        m.room = name(m.room, max: maxRoomCharacters, forbidding: " ,#") ?? name(defaultRoom, max: maxRoomCharacters,
                                                                               forbidding: " ,#") ?? "lobby"
        if !isValidID(m.id) { m.id = freshID() }
        if !isValidTime(m.time) { m.time = ChatMessageFactory.now() }
        m.text = text(m.text, envelopeOf: m)
        return m
    }

    /// Printable ASCII without spaces: ids are compared byte for byte by every reader.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maxIDCharacters && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    static func isValidTime(_ time: String) -> Bool {
        !time.isEmpty && time.utf8.count <= maxTimeCharacters && time.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    static func hasControls(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    /// C0, DEL and C1 controls never reach a screen; markup stays as literal characters.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    static func strippingControls(_ text: String) -> String {
        guard hasControls(text) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { !isControl($0) }))
    }

    /// A nick or room without controls, spaces at the ends or `forbidding` characters, cut
    /// to `max` characters; nil when nothing is left.
    static func name(_ raw: String, max: Int, forbidding: String = "") -> String? {
        var scalars = String.UnicodeScalarView()
        for s in raw.unicodeScalars where !isControl(s) && !forbidding.unicodeScalars.contains(s) { scalars.append(s) }
        let cleaned = String(scalars).trimmingSpaces()
        guard !cleaned.isEmpty else { return nil }
        return cleaned.count <= max ? cleaned : String(cleaned.prefix(max)).trimmingSpaces()
    }

    /// The text without controls, cut at a character boundary to the character limit and
    /// then until the message's JSON fits `maxMessageJSONBytes`.
    static func text(_ raw: String, envelopeOf m: ChatMessage) -> String {
        var text = strippingControls(raw)
        if text.utf8.count > maxTextCharacters, text.count > maxTextCharacters { text = String(text.prefix(maxTextCharacters)) }
        var probe = m
        probe.text = text
        var size = ChatEnvelope.messageJSON(probe).utf8.count
        guard size > maxMessageJSONBytes else { return text }
        // Cut in proportion, then a character at a time (a character may be many scalars).
        var characters = Array(text)
        let keep = characters.count * maxMessageJSONBytes / size
        characters = Array(characters.prefix(keep))
        while true {
            probe.text = String(characters)
            size = ChatEnvelope.messageJSON(probe).utf8.count
            if size <= maxMessageJSONBytes || characters.isEmpty { return probe.text }
            characters.removeLast()
        }
    }
}
