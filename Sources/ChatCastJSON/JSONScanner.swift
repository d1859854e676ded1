/// Why a text is not acceptable JSON.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 reader over UTF-8 bytes, value by value, with a nesting limit so
/// hostile input (deep nesting, invalid UTF-8, lone surrogates) is refused instead of
/// exhausting the stack. `JSONParser` builds trees with it; per-frame readers (the SEI
/// envelope) walk it directly and allocate nothing for what they skip.
///
///     try JSONScanner.scan(bytes) { s in
///         try s.beginObject()
///         var first = true
///         while let key = try s.nextMember(&first) { key == "v" ? print(try s.number()) : try s.skipValue() }
///     }
public struct JSONScanner {
    public enum Kind: Equatable { case object, array, string, number, bool, null }

    /// Runs `body` over `bytes` and checks that nothing but whitespace follows the value it read.
    public static func scan<R>(_ bytes: [UInt8], maxDepth: Int, _ body: (inout JSONScanner) throws -> R) throws -> R {
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(bytes: buffer, maxDepth: maxDepth)
            scanner.skipWhitespace()
            let result = try body(&scanner)
            scanner.skipWhitespace()
            guard scanner.position == buffer.count else { throw scanner.error("trailing characters") }
            return result
        }
    }

    // Valid only inside `scan`: no copies or bounds-checked Array indexing on the hot path.
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var position = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: position, reason: reason) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    /// What the next value is.
    public mutating func kind() throws -> Kind {
        skipWhitespace()
        guard let b = current else { throw error("unexpected end") }
        switch b {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw error("unexpected character")
        }
    }

    private mutating func enter(_ open: UInt8) throws {
        skipWhitespace()
        guard current == open else { throw error(open == UInt8(ascii: "{") ? "expected an object" : "expected an array") }
        depth += 1
        guard depth <= maxDepth else { throw error("nested deeper than \(maxDepth)") }
        position += 1
    }

    public mutating func beginObject() throws { try enter(UInt8(ascii: "{")) }
    public mutating func beginArray() throws { try enter(UInt8(ascii: "[")) }

    /// The next member's key, its value next in line; nil (the object closed) at its end.
    /// `first` starts true for each object.
    public mutating func nextMember(_ first: inout Bool) throws -> String? {
        guard try advance(closing: UInt8(ascii: "}"), first: &first) else { return nil }
        guard current == UInt8(ascii: "\"") else { throw error("expected a key") }
        let key = try parseString()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
        position += 1
        skipWhitespace()
        return key
    }

    /// Whether another element follows (then it is next in line); false at the array's end.
    public mutating func nextElement(_ first: inout Bool) throws -> Bool {
        try advance(closing: UInt8(ascii: "]"), first: &first)
    }

    /// Past the `,` before the next item of a container (or its close, then false).
    private mutating func advance(closing: UInt8, first: inout Bool) throws -> Bool {
        skipWhitespace()
        if current == closing {
            position += 1
            depth -= 1
            return false
        }
        if !first {
            guard current == UInt8(ascii: ",") else {
                throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
            }
            position += 1
        }
        first = false
        skipWhitespace()
        return true
    }

    public mutating func string() throws -> String {
        guard try kind() == .string else { throw error("expected a string") }
        return try parseString()
    }

    public mutating func number() throws -> Double {
        guard try kind() == .number else { throw error("expected a number") }
        return try parseNumber()
    }

    public mutating func bool() throws -> Bool {
        guard try kind() == .bool else { throw error("expected true or false") }
        if current == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    public mutating func null() throws {
        guard try kind() == .null else { throw error("expected null") }
        try literal("null")
    }

    private mutating func literal(_ text: StaticString) throws {
        for i in 0..<text.utf8CodeUnitCount {
            guard current == text.utf8Start[i] else { throw error("expected \(text)") }
            position += 1
        }
    }

    /// Reads and checks one value of any kind, keeping nothing.
    public mutating func skipValue() throws {
        switch try kind() {
        case .object:
            try beginObject()
            var first = true
            while try nextMember(&first) != nil { try skipValue() }
        case .array:
            try beginArray()
            var first = true
            while try nextElement(&first) { try skipValue() }
        case .string: _ = try parseString()
        case .number: _ = try parseNumber()
        case .bool: _ = try bool()
        case .null: try null()
        }
    }

    /// The next value as a tree.
    public mutating func value() throws -> JSONValue {
        switch try kind() {
        case .object:
            try beginObject()
            var members: [(String, JSONValue)] = []
            var first = true
            while let key = try nextMember(&first) { members.append((key, try value())) }
            return .object(members)
        case .array:
            try beginArray()
            var items: [JSONValue] = []
            var first = true
            while try nextElement(&first) { items.append(try value()) }
            return .array(items)
        case .string: return .string(try parseString())
        case .number: return .number(try parseNumber())
        case .bool: return .bool(try bool())
        case .null:
            try null()
            return .null
        }
    }

    private mutating func parseNumber() throws -> Double {
        let start = position
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        guard let first = current, (0x30...0x39).contains(first) else { throw error("expected a digit") }
        if first == 0x30 { position += 1 } else { skipDigits() }
        // Plain integers (boxes, sizes, timestamps) need no text round trip.
        let integerDigits = position - start - (negative ? 1 : 0)
        if integerDigits <= 15, current != UInt8(ascii: "."), current != UInt8(ascii: "e"), current != UInt8(ascii: "E") {
            var value = 0
            for i in (position - integerDigits)..<position { value = value * 10 + Int(bytes[i] - 0x30) }
            return Double(negative ? -value : value)
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard let d = current, (0x30...0x39).contains(d) else { throw error("expected a digit after '.'") }
            let fractionStart = position
            skipDigits()
            // Scores like 0.8731: digits / 10^k is correctly rounded while both are exact
            // doubles (Clinger's fast path), with no text round trip.
            let fractionDigits = position - fractionStart
            if integerDigits + fractionDigits <= 15, fractionDigits <= 22, current != UInt8(ascii: "e"),
               current != UInt8(ascii: "E") {
                var mantissa = 0
                for i in (start + (negative ? 1 : 0))..<position where bytes[i] != UInt8(ascii: ".") {
                    mantissa = mantissa * 10 + Int(bytes[i] - 0x30)
                }
                let value = Double(mantissa) / Self.powersOfTen[fractionDigits]
                return negative ? -value : value
            }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let d = current, (0x30...0x39).contains(d) else { throw error("expected an exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw error("number out of range") }
        return value
    }

    private static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { acc, _ in acc * 10 } }

    private mutating func skipDigits() {
        while let d = current, (0x30...0x39).contains(d) { position += 1 }
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: throw error("bad hex digit")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private mutating func parseString() throws -> String {
        position += 1  // opening quote
        // Most strings have no escapes: validate them straight from the input.
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\"),
              bytes[position] >= 0x20 {
            position += 1
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
            position += 1
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)])
            // ASCII needs no validation (and String(validating:) is not specialised: slow per key).
            if !raw.contains(where: { $0 >= 0x80 }) { return String(decoding: raw, as: UTF8.self) }
            guard let text = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8") }
            return text
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while true {
            guard let b = current else { throw error("unterminated string") }
            if b == UInt8(ascii: "\"") { position += 1; break }
            if b < 0x20 { throw error("control character in string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                position += 1
                continue
            }
            position += 1
            guard let escaped = current else { throw error("unterminated escape") }
            position += 1
            switch escaped {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
                    else { throw error("lone surrogate") }
                    position += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("lone surrogate")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default: throw error("bad escape")
            }
        }
        // Strict UTF-8: String(validating:) refuses ill-formed sequences.
        guard let text = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8") }
        return text
    }
}
