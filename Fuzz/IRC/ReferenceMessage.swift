/// An IRC line parsed over bytes the way RFC 1459 and IRCv3 message-tags define it:
/// fields end at the byte 0x20, prefixes are the bytes `@` and `:`. The fuzz target
/// compares IRCMessage.parse with it.
struct ReferenceMessage: Equatable {
    var tags: [String]
    var source: String?
    var command: String
    var parameters: [String]

    init(_ m: IRCMessage) {
        tags = m.tags.map { "\($0.key)=\($0.value)" }
        source = m.source
        command = m.command
        parameters = m.parameters
    }

    init(tags: [String], source: String?, command: String, parameters: [String]) {
        self.tags = tags
        self.source = source
        self.command = command
        self.parameters = parameters
    }

    /// Nil where IRCMessage.parse must throw (invalid UTF-8, no command, bad or no tags after
    /// `@`, > 15 parameters).
    static func parse(_ line: [UInt8]) -> ReferenceMessage? {
        guard String(validating: line, as: UTF8.self) != nil else { return nil }
        let space = UInt8(ascii: " ")
        var rest = line[...].drop { $0 == space }
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        var tags: [String] = []
        if rest.first == UInt8(ascii: "@") {
            guard let end = rest.firstIndex(of: space) else { return nil }
            for item in rest[(rest.startIndex + 1)..<end].split(separator: UInt8(ascii: ";")) {
                let parts = item.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = parts.first, !key.isEmpty else { return nil }
                tags.append(text(key) + "=" + (parts.count > 1 ? IRCMessage.unescapeTagValue(Substring(text(parts[1]))) : ""))
            }
            // IRCv3 message-tags: `@` opens at least one tag.
            guard !tags.isEmpty else { return nil }
            rest = rest[end...].drop { $0 == space }
        }
        var source: String?
        if rest.first == UInt8(ascii: ":") {
            let end = rest.firstIndex(of: space) ?? rest.endIndex
            source = text(rest[(rest.startIndex + 1)..<end])
            rest = rest[end...].drop { $0 == space }
        }
        let commandEnd = rest.firstIndex(of: space) ?? rest.endIndex
        guard commandEnd > rest.startIndex else { return nil }
        let command = text(rest[..<commandEnd]).uppercased()
        rest = rest[commandEnd...]
        var parameters: [String] = []
        while true {
            rest = rest.drop { $0 == space }
            if rest.isEmpty { break }
            if rest.first == UInt8(ascii: ":") {
                parameters.append(text(rest.dropFirst()))
                break
            }
            let end = rest.firstIndex(of: space) ?? rest.endIndex
            parameters.append(text(rest[..<end]))
            rest = rest[end...]
        }
        guard parameters.count <= 15 else { return nil }
        return ReferenceMessage(tags: tags, source: source, command: command, parameters: parameters)
    }
}
