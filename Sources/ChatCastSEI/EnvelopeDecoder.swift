import ChatCastJSON
import YoloCore

/// Why an envelope was dropped. Readers count these and carry on.
public struct EnvelopeError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Reads an envelope strictly: every field typed and bounded, so hostile or broken input
/// is refused whole instead of reaching overlays or JSON lines half-valid.
public enum EnvelopeDecoder {
    public static let maxDepth = 6
    public static let maxMessages = 64
    public static let maxObjects = 1000
    public static let maxTextCharacters = 500
    public static let maxFieldCharacters = 128
    public static let maxFrameSide = 16384

    public static func decode(_ payload: [UInt8]) throws -> ChatEnvelope {
        guard !payload.isEmpty else { throw EnvelopeError("empty payload") }
        guard payload.count <= ChatEnvelope.maxPayloadBytes else {
            throw EnvelopeError("payload of \(payload.count) bytes exceeds \(ChatEnvelope.maxPayloadBytes)")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes: payload, maxDepth: maxDepth) } catch {
            throw EnvelopeError("\(error)")
        }
        guard json.objectValue != nil else { throw EnvelopeError("payload is not a JSON object") }
        guard let version = json["v"]?.intValue, version >= 1 else { throw EnvelopeError("missing or bad \"v\"") }
        var envelope = ChatEnvelope()
        if let chat = json["chat"] {
            guard let list = chat.arrayValue, list.count <= maxMessages else { throw EnvelopeError("bad \"chat\"") }
            envelope.chat = try list.map(message)
        }
        if let det = json["det"] {
            envelope.detections = try detections(det)
        }
        return envelope
    }

    private static func string(_ value: JSONValue?, _ name: String, max: Int, allowEmpty: Bool = false) throws -> String {
        guard let s = value?.stringValue else { throw EnvelopeError("missing \"\(name)\"") }
        // Characters never outnumber UTF-8 bytes: count them (slow) only for long strings.
        guard allowEmpty || !s.isEmpty, s.utf8.count <= max || s.count <= max else {
            throw EnvelopeError("bad length of \"\(name)\"")
        }
        return s
    }

    private static func message(_ value: JSONValue) throws -> ChatMessage {
        guard value.objectValue != nil else { throw EnvelopeError("chat entry is not an object") }
        let text = try string(value["text"], "text", max: maxTextCharacters, allowEmpty: true)
        return ChatMessage(id: try string(value["id"], "id", max: maxFieldCharacters),
                           room: try string(value["room"], "room", max: maxFieldCharacters),
                           nick: try string(value["nick"], "nick", max: maxFieldCharacters),
                           text: strippingControls(text),
                           time: try string(value["time"], "time", max: 40))
    }

    /// C0 controls and DEL never reach a screen; markup stays as literal characters.
    static func strippingControls(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }

    private static func integer(_ value: JSONValue?, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let i = value?.intValue, range.contains(i) else { throw EnvelopeError("bad \"\(name)\"") }
        return i
    }

    private static func detections(_ value: JSONValue) throws -> EnvelopeDetections {
        guard value.objectValue != nil else { throw EnvelopeError("\"det\" is not an object") }
        let width = try integer(value["width"], "width", in: 1...maxFrameSide)
        let height = try integer(value["height"], "height", in: 1...maxFrameSide)
        guard let list = value["objects"]?.arrayValue, list.count <= maxObjects else { throw EnvelopeError("bad \"objects\"") }
        let objects = try list.map { o -> LabeledDetection in
            guard o.objectValue != nil else { throw EnvelopeError("object is not an object") }
            let x = try integer(o["x"], "x", in: 0...width), y = try integer(o["y"], "y", in: 0...height)
            let w = try integer(o["w"], "w", in: 0...(width - x)), h = try integer(o["h"], "h", in: 0...(height - y))
            guard let confidence = o["confidence"]?.doubleValue, (0...1).contains(confidence) else {
                throw EnvelopeError("bad \"confidence\"")
            }
            return LabeledDetection(label: try string(o["label"], "label", max: maxFieldCharacters),
                                    classId: try integer(o["class_id"], "class_id", in: 0...1_000_000),
                                    confidence: confidence, x: x, y: y, width: w, height: h)
        }
        return EnvelopeDetections(width: width, height: height, objects: objects)
    }
}
