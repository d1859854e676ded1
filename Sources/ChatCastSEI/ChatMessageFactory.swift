#if canImport(Glibc)
import Glibc
#endif
import ChatCastJSON
import YoloCore

/// Makes chat messages for text typed locally: a unique id and the current UTC time.
public struct ChatMessageFactory {
    private let prefix: String
    private var counter: UInt64 = 0

    public init() {
        var rng = SystemRandomNumberGenerator()
        prefix = String(rng.next() as UInt64, radix: 36)
    }

    public mutating func make(room: String, nick: String, text: String) -> ChatMessage {
        counter += 1
        return ChatMessage(id: "\(prefix)-\(counter)", room: room, nick: nick, text: text, time: Self.now())
    }

    /// `2026-11-25T12:00:00.000Z`.
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return timestamp(seconds: ts.tv_sec, nanoseconds: ts.tv_nsec)
    }

    /// The same form for a time given as seconds (and nanoseconds) since 1970, UTC.
    public static func timestamp(seconds: Int, nanoseconds: Int = 0) -> String {
        var t = tm()
        var seconds = seconds
        gmtime_r(&seconds, &t)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = max(0, min(999, nanoseconds / 1_000_000))
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)).\(msText)Z"
    }

    /// A line of a messages file: `nick: text`, or a JSON object with `text` and optional
    /// `nick`, `room`, `id`, `time`. Nil for blank or unreadable lines.
    public mutating func parseLine(_ line: String, defaultRoom: String, defaultNick: String) -> ChatMessage? {
        let trimmed = line.trimmingSpaces()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.hasPrefix("{") {
            guard let json = try? JSONParser.parse(trimmed), let text = json["text"]?.stringValue else { return nil }
            var m = make(room: json["room"]?.stringValue ?? defaultRoom, nick: json["nick"]?.stringValue ?? defaultNick,
                         text: text)
            if let id = json["id"]?.stringValue, !id.isEmpty { m.id = id }
            if let time = json["time"]?.stringValue, !time.isEmpty { m.time = time }
            return m
        }
        guard let colon = trimmed.firstIndex(of: ":") else {
            return make(room: defaultRoom, nick: defaultNick, text: trimmed)
        }
        let nick = String(trimmed[..<colon]).trimmingSpaces()
        let text = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces()
        return make(room: defaultRoom, nick: nick.isEmpty ? defaultNick : nick, text: text)
    }
}
