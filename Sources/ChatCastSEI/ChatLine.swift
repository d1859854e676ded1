import ChatCastJSON

/// The `chat` JSON line of DESIGN.md.
public enum ChatLine {
    public static func json(_ m: ChatMessage, pts: UInt64?) -> String {
        var line = JSONObjectWriter(capacity: 112 + m.text.utf8.count)
        line.field("type", "chat")
        line.field("id", m.id)
        line.field("room", m.room)
        line.field("nick", m.nick)
        line.field("text", m.text)
        line.field("time", m.time)
        line.field("pts", pts)
        return String(decoding: line.finish(), as: UTF8.self)
    }
}
