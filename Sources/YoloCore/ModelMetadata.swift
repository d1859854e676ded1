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

    /// Parses the JSON text. `imgsz` is `[h, w]` or a single side; `names` is an object
    /// keyed by class id (`{"0": "person"}`) or a list.
    public static func parse(_ text: String) throws -> ModelMetadata {
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw ParseError(description: "config.txt is not JSON: \(error)") }
        guard json.objectValue != nil else { throw ParseError(description: "config.txt is not a JSON object") }
        var metadata = ModelMetadata()
        if let size = json["imgsz"] {
            if let side = size.intValue, side > 0 {
                metadata.inputSize = (side, side)
            } else if let list = size.arrayValue?.compactMap(\.intValue), list.count == 2, list.allSatisfy({ $0 > 0 }) {
                metadata.inputSize = (list[1], list[0])
            } else {
                throw ParseError(description: "config.txt: imgsz must be a positive number or [height, width]")
            }
        }
        metadata.stride = json["stride"]?.intValue
        if let names = json["names"] {
            metadata.names = try parseNames(names)
        }
        return metadata
    }

    private static func parseNames(_ value: JSONValue) throws -> [String] {
        if let list = value.arrayValue {
            return try list.map {
                guard let s = $0.stringValue else { throw ParseError(description: "config.txt: names must be strings") }
                return s
            }
        }
        guard let members = value.objectValue else { throw ParseError(description: "config.txt: names must be an object or a list") }
        var byId: [Int: String] = [:]
        for (key, name) in members {
            guard let id = Int(key), id >= 0, let s = name.stringValue else {
                throw ParseError(description: "config.txt: names must map class ids to strings")
            }
            byId[id] = s
        }
        guard let maxId = byId.keys.max(), byId.count == maxId + 1 else {
            throw ParseError(description: "config.txt: names must cover class ids 0…n-1")
        }
        return (0...maxId).map { byId[$0]! }
    }
}
