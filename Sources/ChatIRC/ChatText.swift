/// What chat text may contain on the wire: C0 controls other than IRC formatting codes are
/// removed (a NUL or an escape sequence must not reach other people's terminals).
public enum ChatText {
    /// Bold, colour, hex colour, reset, monospace, reverse, italic, strikethrough, underline.
    static let formatting: Set<UInt8> = [0x02, 0x03, 0x04, 0x0F, 0x11, 0x16, 0x1D, 0x1E, 0x1F]

    public static func strippingControls(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { ($0 < 0x20 && !formatting.contains($0)) || $0 == 0x7F }) else { return text }
        return String(decoding: utf8.filter { !(($0 < 0x20 && !formatting.contains($0)) || $0 == 0x7F) }, as: UTF8.self)
    }

    /// `lobby` ↔ `#lobby`.
    public static func channel(forRoom room: String) -> String { room.hasPrefix("#") ? room : "#" + room }
    public static func room(forChannel channel: String) -> String { channel.hasPrefix("#") ? String(channel.dropFirst()) : channel }
}
