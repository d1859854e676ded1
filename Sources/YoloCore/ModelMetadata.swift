import ChatCastJSON

/// What an Ultralytics TorchScript export says about itself in its extra file
/// `config.txt` (JSON): input size, stride and class names.
public struct ModelMetadata: Equatable, Sendable {
    /// (width, height) of the fixed input, when given.
    public var inputSize: (width: Int, height: Int)?
    public var stride: Int?
    /// Class names by id, when given.
    public var names: [String]?

    public init(inputSize: (width: Int, height: Int)? = nil, stride: Int? = nil, names: [String]? = nil) {
        self.inputSize = inputSize
        self.stride = stride
        self.names = names
    }

    public static func == (a: ModelMetadata, b: ModelMetadata) -> Bool {
        a.inputSize?.width == b.inputSize?.width && a.inputSize?.height == b.inputSize?.height
            && a.stride == b.stride && a.names == b.names
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The largest input side swiftyolo takes: a 4096×4096 float tensor is 192 MiB already.
    public static let maxInputSide = 4096
    /// Class ids run below this (COCO has 80, Open Images 601, LVIS 1203).
    public static let maxClasses = 10_000
    /// A `config.txt` is a few hundred bytes (names included, a few tens of KiB).
    public static let maxTextBytes = 1 << 20

    /// Parses the JSON text. `imgsz` is `[h, w]` or a single side; `names` is an object
    /// keyed by class id (`{"0": "person"}`) or a list. Anything outside the limits above is
    /// refused with the reason, never trusted.
    public static func parse(_ text: String) throws -> ModelMetadata {
        guard text.utf8.count <= maxTextBytes else {
            throw ParseError(description: "config.txt is \(text.utf8.count) bytes; model metadata is at most \(maxTextBytes)")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw ParseError(description: "config.txt is not JSON: \(error)") }
        guard json.objectValue != nil else { throw ParseError(description: "config.txt is not a JSON object") }
        var metadata = ModelMetadata()
        if let size = json["imgsz"] {
            let sides: [Int]
            if let side = size.intValue {
                sides = [side, side]
            } else if let list = size.arrayValue?.compactMap(\.intValue), list.count == 2, size.arrayValue?.count == 2 {
                sides = list
            } else {
                throw ParseError(description: "config.txt: imgsz must be a positive number or [height, width]")
            }
            guard sides.allSatisfy({ $0 > 0 }) else {
                throw ParseError(description: "config.txt: imgsz must be a positive number or [height, width]")
            }
            guard sides.allSatisfy({ $0 <= maxInputSide }) else {
                throw ParseError(description: "config.txt: imgsz \(sides[0])×\(sides[1]) is larger than \(maxInputSide)×\(maxInputSide), "
                                 + "the largest input swiftyolo takes")
            }
            metadata.inputSize = (sides[1], sides[0])
        }
        if let stride = json["stride"] {
            guard let value = stride.intValue, (1...maxInputSide).contains(value) else {
                throw ParseError(description: "config.txt: stride must be a whole number from 1 to \(maxInputSide)")
            }
            metadata.stride = value
        }
        if let names = json["names"] {
            metadata.names = try parseNames(names)
        }
        return metadata
    }

    private static func parseNames(_ value: JSONValue) throws -> [String] {
        if let list = value.arrayValue {
            guard list.count <= maxClasses else {
                throw ParseError(description: "config.txt: \(list.count) names; a model has at most \(maxClasses) classes")
            }
            return try list.map {
                guard let s = $0.stringValue else { throw ParseError(description: "config.txt: names must be strings") }
                return s
            }
        }
        guard let members = value.objectValue else { throw ParseError(description: "config.txt: names must be an object or a list") }
        guard members.count <= maxClasses else {
            throw ParseError(description: "config.txt: \(members.count) names; a model has at most \(maxClasses) classes")
        }
        var byId: [Int: String] = [:]
        for (key, name) in members {
            guard let id = Int(key), let s = name.stringValue else {
                throw ParseError(description: "config.txt: names must map class ids to strings")
            }
            guard (0..<maxClasses).contains(id) else {
                throw ParseError(description: "config.txt: class id \(key.prefix(24)) is outside 0…\(maxClasses - 1)")
            }
            byId[id] = s
        }
        guard let maxId = byId.keys.max(), byId.count == maxId + 1 else {
            throw ParseError(description: "config.txt: names must cover class ids 0…n-1")
        }
        return (0...maxId).map { byId[$0]! }
    }
}
