import ChatCastJSON

/// The `chat` JSON line of DESIGN.md.
public enum ChatLine {
    public static func json(_ m: ChatMessage, pts: UInt64?) -> String {
        JSONWriter.write(.object([
            ("type", .string("chat")), ("id", .string(m.id)), ("room", .string(m.room)), ("nick", .string(m.nick)),
            ("text", .string(m.text)), ("time", .string(m.time)), ("pts", pts.map { .number(Double($0)) } ?? .null),
        ]))
    }
}
