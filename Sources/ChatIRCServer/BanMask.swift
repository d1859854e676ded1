import ChatIRC

/// A `nick!user@host` mask with `*` and `?` wildcards, as `+b` and `+I`-style lists use.
/// Partial masks are completed the way every ircd does (`bob` → `bob!*@*`, `*@host` →
/// `*!*@host`) so the list shows what is really matched.
public struct BanMask: Equatable, Sendable {
    public let mask: String

    static let maxLength = 200

    /// Nil for a mask a list must not hold: empty, too long, or with spaces or control characters.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= Self.maxLength,
              !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0 == "," })
        else { return nil }
        var nick = text, user = "*", host = "*"
        if let at = text.lastIndex(of: "@") {
            host = String(text[text.index(after: at)...])
            nick = String(text[..<at])
            if let bang = nick.firstIndex(of: "!") {
                user = String(nick[nick.index(after: bang)...])
                nick = String(nick[..<bang])
            } else {
                user = nick
                nick = "*"
            }
        } else if let bang = text.firstIndex(of: "!") {
            user = String(text[text.index(after: bang)...])
            nick = String(text[..<bang])
        }
        mask = "\(nick.isEmpty ? "*" : nick)!\(user.isEmpty ? "*" : user)@\(host.isEmpty ? "*" : host)"
    }

    public func matches(_ source: String) -> Bool {
        Self.wildcard(Array(CaseMapping.fold(mask).utf8), Array(CaseMapping.fold(source).utf8))
    }

    /// Glob match without recursion (linear backtracking on the last `*`): a hostile mask of
    /// many stars costs no more than the text's length squared.
    static func wildcard(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1; t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
