/// Parses JSON text into a `JSONValue` tree (strict; see `JSONScanner`).
public enum JSONParser {
    public static let defaultMaxDepth = 32

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try parse(bytes: Array(text.utf8), maxDepth: maxDepth)
    }

    public static func parse(bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try JSONScanner.scan(bytes, maxDepth: maxDepth) { try $0.value() }
    }
}
