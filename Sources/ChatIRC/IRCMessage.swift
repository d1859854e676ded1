/// One IRC line (RFC 1459/2812 framing with IRCv3 message tags): `@tags :source COMMAND params`.
public struct IRCMessage: Equatable, Sendable {
    public struct Tag: Equatable, Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public var tags: [Tag]
    public var source: String?
    /// Upper-cased; numerics stay three digits.
    public var command: String
    public var parameters: [String]

    public init(tags: [Tag] = [], source: String? = nil, command: String, _ parameters: [String] = []) {
        self.tags = tags
        self.source = source
        self.command = command
        self.parameters = parameters
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    /// The nick of a `nick!user@host` source.
    public var sourceNick: String? {
        guard let source else { return nil }
        return String(source.prefix { $0 != "!" && $0 != "@" })
    }
}

/// Why a line is not a message.
public enum IRCParseError: Error, Equatable, CustomStringConvertible {
    case empty
    case invalidUTF8
    case noCommand
    case tooManyParameters
    case badTags

    public var description: String {
        switch self {
        case .empty: return "empty line"
        case .invalidUTF8: return "line is not valid UTF-8"
        case .noCommand: return "line has no command"
        case .tooManyParameters: return "more than 15 parameters"
        case .badTags: return "malformed message tags"
        }
    }
}

extension IRCMessage {
    /// Parses one line without its CR LF. Strict UTF-8: IRC bytes in other encodings are refused.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> IRCMessage {
        guard let line = String(validating: bytes, as: UTF8.self) else { throw IRCParseError.invalidUTF8 }
        return try parse(line)
    }

    public static func parse(_ line: String) throws -> IRCMessage {
        // IRC fields end at the byte 0x20: split on scalars, never on characters (a space
        // followed by a combining mark is one Character).
        typealias Scalars = Substring.UnicodeScalarView
        var rest = Substring(line).unicodeScalars.drop { $0 == " " }
        func text(_ s: Scalars.SubSequence) -> String { String(String.UnicodeScalarView(s)) }
        var tags: [Tag] = []
        if rest.first == "@" {
            guard let space = rest.firstIndex(of: " ") else { throw IRCParseError.badTags }
            for item in rest[rest.index(after: rest.startIndex)..<space].split(separator: ";") {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = parts.first, !key.isEmpty else { throw IRCParseError.badTags }
                tags.append(Tag(text(key), parts.count > 1 ? unescapeTagValue(Substring(text(parts[1]))) : ""))
            }
            // `@` opens at least one tag (IRCv3): an empty section would not survive `serialized`.
            guard !tags.isEmpty else { throw IRCParseError.badTags }
            rest = rest[space...].drop { $0 == " " }
        }
        var source: String?
        if rest.first == ":" {
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            source = text(rest[rest.index(after: rest.startIndex)..<end])
            rest = rest[end...].drop { $0 == " " }
        }
        let commandEnd = rest.firstIndex(of: " ") ?? rest.endIndex
        let command = text(rest[..<commandEnd])
        guard !command.isEmpty else { throw rest.isEmpty && tags.isEmpty && source == nil ? IRCParseError.empty : .noCommand }
        rest = rest[commandEnd...]
        var parameters: [String] = []
        while true {
            rest = rest.drop { $0 == " " }
            if rest.isEmpty { break }
            if rest.first == ":" {
                parameters.append(text(rest.dropFirst()))
                break
            }
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            parameters.append(text(rest[..<end]))
            rest = rest[end...]
        }
        guard parameters.count <= 15 else { throw IRCParseError.tooManyParameters }
        return IRCMessage(tags: tags, source: source, command: command.uppercased(), parameters)
    }

    /// The line with CR LF. The last parameter gets a `:` when it needs one.
    public var serialized: String {
        var out = ""
        if !tags.isEmpty {
            out += "@" + tags.map { $0.value.isEmpty ? $0.key : "\($0.key)=\(Self.escapeTagValue($0.value))" }
                .joined(separator: ";") + " "
        }
        if let source { out += ":\(source) " }
        out += command
        for (i, p) in parameters.enumerated() {
            let last = i == parameters.count - 1
            // Bytes, as parse reads them: " \u{301}" is one Character but ends a field.
            if last && (p.isEmpty || p.utf8.first == UInt8(ascii: ":") || p.utf8.contains(UInt8(ascii: " "))) {
                out += " :" + p
            } else if !last && (p.isEmpty || p.utf8.first == UInt8(ascii: ":") || p.utf8.contains(UInt8(ascii: " "))) {
                // A middle parameter cannot hold these (an echoed bad key or nick would split
                // into several parameters): `*`, as servers write an unknown value.
                out += " *"
            } else {
                out += " " + p
            }
        }
        return out + "\r\n"
    }

    static func escapeTagValue(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case ";": out += "\\:"
            case " ": out += "\\s"
            case "\\": out += "\\\\"
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func unescapeTagValue(_ value: Substring) -> String {
        var out = ""
        var escaping = false
        for c in value.unicodeScalars {
            if escaping {
                switch c {
                case ":": out += ";"
                case "s": out += " "
                case "r": out += "\r"
                case "n": out += "\n"
                default: out.unicodeScalars.append(c)  // `\\` and unknown escapes drop the backslash
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
