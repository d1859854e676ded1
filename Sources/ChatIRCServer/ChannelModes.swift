import NIOCore

/// A channel's settings: the flags (`+imnst`), the key (`+k`), the member limit (`+l`) and
/// slow mode (`+W seconds`: one message per member per that many seconds; operators and
/// voiced members are exempt). A new channel is `+nt`.
struct ChannelModes: Equatable {
    var inviteOnly = false     // i
    var moderated = false      // m
    var noExternal = true      // n
    var secret = false         // s
    var topicLocked = true     // t
    var key: String?           // k
    var limit: Int?            // l
    var slowSeconds: Int?      // W

    /// ISUPPORT CHANMODES: lists, always a parameter, a parameter when set, flags.
    static let isupport = "b,k,lW,imnst"
    /// Letters for RPL_MYINFO (004).
    static let letters = "bikWlmnostv"
    static let maxSlowSeconds = 86_400
    static let maxKeyLength = 23

    /// `+ntk key`-style text for RPL_CHANNELMODEIS; the key only to those who may know it.
    func text(showKey: Bool) -> [String] {
        var flags = "+", parameters: [String] = []
        if inviteOnly { flags += "i" }
        if key != nil { flags += "k"; parameters.append(showKey ? key! : "*") }
        if let limit { flags += "l"; parameters.append(String(limit)) }
        if moderated { flags += "m" }
        if noExternal { flags += "n" }
        if secret { flags += "s" }
        if topicLocked { flags += "t" }
        if let slowSeconds { flags += "W"; parameters.append(String(slowSeconds)) }
        return [flags] + parameters
    }

    /// Sets or clears a flag mode; false when `letter` is not one.
    mutating func setFlag(_ letter: Character, _ on: Bool) -> Bool {
        switch letter {
        case "i": inviteOnly = on
        case "m": moderated = on
        case "n": noExternal = on
        case "s": secret = on
        case "t": topicLocked = on
        default: return false
        }
        return true
    }

    func flag(_ letter: Character) -> Bool {
        switch letter {
        case "i": inviteOnly
        case "m": moderated
        case "n": noExternal
        case "s": secret
        case "t": topicLocked
        default: false
        }
    }

    /// A key a client can type back: no spaces, commas or control characters.
    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= maxKeyLength
            && !key.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F || $0 == "," || $0 == ":" }
    }

    /// A positive count that fits (`+l 99999999999999999999` is refused, not wrapped).
    static func parseCount(_ text: String, max: Int) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int(text), n > 0, n <= max else { return nil }
        return n
    }
}

/// One `+b` entry; timed bans (`TBAN`) lift themselves at `expires`.
struct BanEntry {
    let mask: BanMask
    let setBy: String
    let setAt: Int
    var expires: NIODeadline?
}

/// IRC durations as InspIRCd's TBAN takes them: seconds (`300`) or units (`1h30m`, `2d`, `45s`).
public enum IRCDuration {
    public static func seconds(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 16 else { return nil }
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) { return Int(text).flatMap { $0 > 0 ? $0 : nil } }
        var total = 0, number = 0, sawDigit = false
        for c in text.lowercased() {
            if let d = c.wholeNumberValue, c.isASCII {
                number = number * 10 + d
                sawDigit = true
                guard number < 100_000_000 else { return nil }
            } else {
                let unit: Int
                switch c {
                case "s": unit = 1
                case "m": unit = 60
                case "h": unit = 3600
                case "d": unit = 86_400
                case "w": unit = 604_800
                case "y": unit = 31_536_000
                default: return nil
                }
                guard sawDigit else { return nil }
                total += number * unit
                number = 0
                sawDigit = false
            }
        }
        total += number  // trailing digits are seconds
        return total > 0 && total <= 31_536_000 * 10 ? total : nil
    }
}
