/// Writes one JSON object straight into UTF-8 bytes, field by field. The per-frame lines
/// and envelopes use it instead of building a `JSONValue` tree first: no intermediate
/// arrays, strings or tuples per field.
public struct JSONObjectWriter {
    public private(set) var bytes: [UInt8]
    private var empty = true

    public init(capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ name: StaticString) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        JSONWriter.appendString(value, to: &bytes)
    }

    public mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        JSONWriter.appendInteger(Int64(value), to: &bytes)
    }

    /// Integers print as integers, other finite numbers in Swift's shortest form, the rest as null.
    public mutating func field(_ name: StaticString, _ value: Double) {
        key(name)
        JSONWriter.appendNumber(value, to: &bytes)
    }

    public mutating func field(_ name: StaticString, _ value: UInt64?) {
        key(name)
        if let value, value <= UInt64(Int64.max) { JSONWriter.appendInteger(Int64(value), to: &bytes) } else { bytes += "null".utf8 }
    }

    public mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes += (value ? "true" : "false").utf8
    }

    /// A value that is already JSON text (a nested object or array).
    public mutating func field(_ name: StaticString, json: [UInt8]) {
        key(name)
        bytes += json
    }

    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// A JSON array of already-written values.
    public static func array(_ items: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(items.reduce(2) { $0 + $1.count + 1 })
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += item
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
