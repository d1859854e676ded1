/// `irc://HOST:PORT` or `ircs://HOST:PORT` (TLS); the port defaults to 6667 / 6697.
public struct IRCServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init(host: String, port: Int, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    public init?(_ text: String) {
        let tls: Bool
        var rest: Substring
        if text.hasPrefix("ircs://") {
            tls = true
            rest = text.dropFirst(7)
        } else if text.hasPrefix("irc://") {
            tls = false
            rest = text.dropFirst(6)
        } else {
            return nil
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = rest, port = tls ? 6697 : 6667
        if rest.hasPrefix("[") {  // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.init(host: String(host), port: port, tls: tls)
    }

    public var description: String { "\(tls ? "ircs" : "irc")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}
