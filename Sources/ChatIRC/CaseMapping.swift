/// RFC 1459 case mapping: `[]\~` are the lower-case forms of `{}|^`, so `Nick[1]` and
/// `nick{1}` are the same nick. Servers compare nicks and channels by this key.
public enum CaseMapping {
    public static func fold(_ name: String) -> String {
        var bytes = Array(name.utf8)
        for i in bytes.indices {
            switch bytes[i] {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes[i] += 32
            case UInt8(ascii: "["): bytes[i] = UInt8(ascii: "{")
            case UInt8(ascii: "]"): bytes[i] = UInt8(ascii: "}")
            case UInt8(ascii: "\\"): bytes[i] = UInt8(ascii: "|")
            case UInt8(ascii: "~"): bytes[i] = UInt8(ascii: "^")
            default: break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
