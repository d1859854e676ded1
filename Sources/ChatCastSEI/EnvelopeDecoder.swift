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
        do {
            // Read straight from the bytes, field by field: no JSON tree per frame.
            return try JSONScanner.scan(payload, maxDepth: maxDepth) { s in
                guard try s.kind() == .object else { throw EnvelopeError("payload is not a JSON object") }
                try s.beginObject()
                var version: Double?, envelope = ChatEnvelope(), first = true
                while let key = try s.nextMember(&first) {
                    switch key {
                    case "v": version = try optionalNumber(&s)
                    case "chat": envelope.chat = try messages(&s)
                    case "det": envelope.detections = try detections(&s)
                    default: try s.skipValue()  // unknown fields are ignored (but must be valid JSON)
                    }
                }
                guard let v = version.flatMap(integer), v >= 1 else { throw EnvelopeError("missing or bad \"v\"") }
                return envelope
            }
        } catch let error as JSONParseError {
            throw EnvelopeError("\(error)")
        }
    }

    /// The integer a JSON number stands for, when it is one (as `JSONValue.intValue`).
    static func integer(_ n: Double) -> Int? {
        n.isFinite && n == n.rounded() && abs(n) < 9e15 ? Int(n) : nil
    }

    private static func string(_ value: String?, _ name: String, max: Int, allowEmpty: Bool = false) throws -> String {
        guard let s = value else { throw EnvelopeError("missing \"\(name)\"") }
        // Characters never outnumber UTF-8 bytes: count them (slow) only for long strings.
        guard allowEmpty || !s.isEmpty, s.utf8.count <= max || s.count <= max else {
            throw EnvelopeError("bad length of \"\(name)\"")
        }
        return s
    }

    /// A string member, or nil (after skipping it) when it is something else.
    private static func optionalString(_ s: inout JSONScanner) throws -> String? {
        if try s.kind() == .string { return try s.string() }
        try s.skipValue()
        return nil
    }

    private static func optionalNumber(_ s: inout JSONScanner) throws -> Double? {
        if try s.kind() == .number { return try s.number() }
        try s.skipValue()
        return nil
    }

    private static func messages(_ s: inout JSONScanner) throws -> [ChatMessage] {
        guard try s.kind() == .array else { throw EnvelopeError("bad \"chat\"") }
        try s.beginArray()
        var list: [ChatMessage] = [], first = true
        while try s.nextElement(&first) {
            guard list.count < maxMessages else { throw EnvelopeError("bad \"chat\"") }
            list.append(try message(&s))
        }
        return list
    }

    private static func message(_ s: inout JSONScanner) throws -> ChatMessage {
        guard try s.kind() == .object else { throw EnvelopeError("chat entry is not an object") }
        try s.beginObject()
        var id: String?, room: String?, nick: String?, text: String?, time: String?, first = true
        while let key = try s.nextMember(&first) {
            switch key {
            case "id": id = try optionalString(&s)
            case "room": room = try optionalString(&s)
            case "nick": nick = try optionalString(&s)
            case "text": text = try optionalString(&s)
            case "time": time = try optionalString(&s)
            default: try s.skipValue()
            }
        }
        let checkedText = try string(text, "text", max: maxTextCharacters, allowEmpty: true)
        return ChatMessage(id: try string(id, "id", max: maxFieldCharacters),
                           room: try string(room, "room", max: maxFieldCharacters),
                           nick: try string(nick, "nick", max: maxFieldCharacters),
                           text: strippingControls(checkedText),
                           time: try string(time, "time", max: 40))
    }

    private static func integer(_ value: Double?, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let i = value.flatMap(integer), range.contains(i) else { throw EnvelopeError("bad \"\(name)\"") }
        return i
    }

    private struct RawObject {
        var label: String?, classId: Double?, confidence: Double?, x: Double?, y: Double?, w: Double?, h: Double?
    }

    private static func detections(_ s: inout JSONScanner) throws -> EnvelopeDetections {
        guard try s.kind() == .object else { throw EnvelopeError("\"det\" is not an object") }
        try s.beginObject()
        var width: Double?, height: Double?, raw: [RawObject]?, first = true
        while let key = try s.nextMember(&first) {
            switch key {
            case "width": width = try optionalNumber(&s)
            case "height": height = try optionalNumber(&s)
            case "objects":
                guard try s.kind() == .array else { throw EnvelopeError("bad \"objects\"") }
                try s.beginArray()
                var list: [RawObject] = [], firstElement = true
                while try s.nextElement(&firstElement) {
                    guard list.count < maxObjects else { throw EnvelopeError("bad \"objects\"") }
                    guard try s.kind() == .object else { throw EnvelopeError("object is not an object") }
                    try s.beginObject()
                    var o = RawObject(), firstMember = true
                    while let field = try s.nextMember(&firstMember) {
                        switch field {
                        case "label": o.label = try optionalString(&s)
                        case "class_id": o.classId = try optionalNumber(&s)
                        case "confidence": o.confidence = try optionalNumber(&s)
                        case "x": o.x = try optionalNumber(&s)
                        case "y": o.y = try optionalNumber(&s)
                        case "w": o.w = try optionalNumber(&s)
                        case "h": o.h = try optionalNumber(&s)
                        default: try s.skipValue()
                        }
                    }
                    list.append(o)
                }
                raw = list
            default: try s.skipValue()
            }
        }
        // Boxes are checked against the frame size, which may come after them.
        let frameWidth = try integer(width, "width", in: 1...maxFrameSide)
        let frameHeight = try integer(height, "height", in: 1...maxFrameSide)
        guard let raw else { throw EnvelopeError("bad \"objects\"") }
        let objects = try raw.map { o -> LabeledDetection in
            let x = try integer(o.x, "x", in: 0...frameWidth), y = try integer(o.y, "y", in: 0...frameHeight)
            let w = try integer(o.w, "w", in: 0...(frameWidth - x)), h = try integer(o.h, "h", in: 0...(frameHeight - y))
            guard let confidence = o.confidence, (0...1).contains(confidence) else { throw EnvelopeError("bad \"confidence\"") }
            return LabeledDetection(label: try string(o.label, "label", max: maxFieldCharacters),
                                    classId: try integer(o.classId, "class_id", in: 0...1_000_000),
                                    confidence: confidence, x: x, y: y, width: w, height: h)
        }
        return EnvelopeDetections(width: frameWidth, height: frameHeight, objects: objects)
    }

    /// C0 controls and DEL never reach a screen; markup stays as literal characters.
    static func strippingControls(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }
}
