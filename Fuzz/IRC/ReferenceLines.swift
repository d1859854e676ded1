/// The lines IRCLineDecoder's contract promises, from a plain split: each LF ends a line
/// (one CR before it dropped); empty lines are skipped; a line over the limit is one
/// `.tooLong`; an unterminated tail is dropped, but one already past limit + 1 bytes has
/// been reported.
enum ReferenceLines {
    static func split(_ stream: [UInt8], maxLine: Int) -> [Line] {
        var out: [Line] = []
        var rest = stream[...]
        while let lf = rest.firstIndex(of: UInt8(ascii: "\n")) {
            var line = rest[..<lf]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.count > maxLine { out.append(.tooLong) } else if !line.isEmpty { out.append(.line(Array(line))) }
            rest = rest[(lf + 1)...]
        }
        if rest.count > maxLine + 1 { out.append(.tooLong) }
        return out
    }
}
