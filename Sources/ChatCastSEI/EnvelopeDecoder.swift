import ChatCastJSON
import YoloCore

/// Why an envelope was dropped. Readers count these and carry on.
public struct EnvelopeError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// An envelope as read, with what was left out of it.
public struct DecodedEnvelope: Equatable, Sendable {
    public var envelope: ChatEnvelope
    /// Chat entries that failed their checks (or came beyond `maxMessages`).
    public var droppedMessages = 0
    /// Objects that failed their checks (or came beyond `maxObjects`); a `det` that is not
    /// readable at all counts as one.
    public var droppedObjects = 0
}

/// Reads an envelope: every field typed and bounded. Each chat entry and each object is
/// judged on its own, so one bad entry is left out and counted while the rest of the
/// envelope is kept; only a payload that is not an envelope at all is refused whole.
public enum EnvelopeDecoder {
    public static let maxDepth = 6
    public static let maxMessages = 64
    public static let maxObjects = 1000
    public static let maxTextCharacters = 500
    public static let maxFieldCharacters = 128
    public static let maxFrameSide = 16384
    /// Track ids are counters: anything up to 2³¹ − 1 is plausible, more is not.
    public static let maxTrackID = Int(Int32.max)

    /// The envelope, without the count of what was left out of it.
    public static func decode(_ payload: [UInt8]) throws -> ChatEnvelope {
        try read(payload).envelope
    }

    public static func read(_ payload: [UInt8]) throws -> DecodedEnvelope {
        guard !payload.isEmpty else { throw EnvelopeError("empty payload") }
        guard payload.count <= ChatEnvelope.maxPayloadBytes else {
            throw EnvelopeError("payload of \(payload.count) bytes exceeds \(ChatEnvelope.maxPayloadBytes)")
        }
        do {
            // Read straight from the bytes, field by field: no JSON tree per frame.
            return try JSONScanner.scan(payload, maxDepth: maxDepth) { s in
                guard try s.kind() == .object else { throw EnvelopeError("payload is not a JSON object") }
                try s.beginObject()
                var version: Double?, decoded = DecodedEnvelope(envelope: ChatEnvelope()), first = true
                while let key = try s.nextMember(&first) {
                    switch key {
                    case "v": version = try optionalNumber(&s)
                    case "chat": decoded.envelope.chat = try messages(&s, dropped: &decoded.droppedMessages)
                    case "det": decoded.envelope.detections = try detections(&s, dropped: &decoded.droppedObjects)
                    default: try s.skipValue()  // unknown fields are ignored (but must be valid JSON)
                    }
                }
                guard let v = version.flatMap(integer), v >= 1 else { throw EnvelopeError("missing or bad \"v\"") }
                return decoded
            }
        } catch let error as JSONParseError {
            throw EnvelopeError("\(error)")
        }
    }

    /// The integer a JSON number stands for, when it is one (as `JSONValue.intValue`).
    static func integer(_ n: Double) -> Int? {
        n.isFinite && n == n.rounded() && abs(n) < 9e15 ? Int(n) : nil
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

    private static func messages(_ s: inout JSONScanner, dropped: inout Int) throws -> [ChatMessage] {
        guard try s.kind() == .array else { throw EnvelopeError("bad \"chat\"") }
        try s.beginArray()
        var list: [ChatMessage] = [], first = true
        while try s.nextElement(&first) {
            guard list.count < maxMessages, let m = try message(&s) else {
                if list.count >= maxMessages { try s.skipValue() }
                dropped += 1
                continue
            }
            list.append(m)
        }
        return list
    }

    /// One chat entry; nil (the entry read to its end) when it fails a check.
    private static func message(_ s: inout JSONScanner) throws -> ChatMessage? {
        guard try s.kind() == .object else {
            try s.skipValue()
            return nil
        }
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
        guard let checkedText = checked(text, max: maxTextCharacters, allowEmpty: true),
              let id = checked(id, max: maxFieldCharacters), let room = checked(room, max: maxFieldCharacters),
              let nick = checked(nick.map(ChatLimits.strippingControls), max: maxFieldCharacters),
              let time = checked(time, max: 40) else { return nil }
        return ChatMessage(id: id, room: room, nick: nick, text: ChatLimits.strippingControls(checkedText), time: time)
    }

    private static func checked(_ value: String?, max: Int, allowEmpty: Bool = false) -> String? {
        // Characters never outnumber UTF-8 bytes: count them (slow) only for long strings.
        guard let s = value, allowEmpty || !s.isEmpty, s.utf8.count <= max || s.count <= max else { return nil }
        return s
    }

    private struct RawObject {
        var label: String?, classId: Double?, confidence: Double?, x: Double?, y: Double?, w: Double?, h: Double?
        var trackId: Double?, predicted = false, badTrack = false
    }

    /// The `det` object; nil (counted as one dropped) when its frame size is unusable.
    private static func detections(_ s: inout JSONScanner, dropped: inout Int) throws -> EnvelopeDetections? {
        guard try s.kind() == .object else {
            try s.skipValue()
            dropped += 1
            return nil
        }
        try s.beginObject()
        var width: Double?, height: Double?, raw: [RawObject] = [], first = true
        while let key = try s.nextMember(&first) {
            switch key {
            case "width": width = try optionalNumber(&s)
            case "height": height = try optionalNumber(&s)
            case "objects":
                guard try s.kind() == .array else {
                    try s.skipValue()
                    dropped += 1
                    continue
                }
                try s.beginArray()
                var firstElement = true
                while try s.nextElement(&firstElement) {
                    guard raw.count < maxObjects, try s.kind() == .object else {
                        try s.skipValue()
                        dropped += 1
                        continue
                    }
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
                        case "track_id" where try s.kind() == .null: try s.skipValue()
                        case "track_id":
                            o.trackId = try optionalNumber(&s)
                            o.badTrack = o.trackId == nil
                        case "predicted":
                            if try s.kind() == .bool { o.predicted = try s.bool() } else { try s.skipValue() }
                        default: try s.skipValue()
                        }
                    }
                    raw.append(o)
                }
            default: try s.skipValue()
            }
        }
        // Boxes are checked against the frame size, which may come after them.
        guard let frameWidth = bounded(width, 1...maxFrameSide), let frameHeight = bounded(height, 1...maxFrameSide) else {
            dropped += max(1, raw.count)
            return nil
        }
        let objects = raw.compactMap { o -> LabeledDetection? in
            guard let x = bounded(o.x, 0...frameWidth), let y = bounded(o.y, 0...frameHeight),
                  let w = bounded(o.w, 0...(frameWidth - x)), let h = bounded(o.h, 0...(frameHeight - y)),
                  let confidence = o.confidence, (0...1).contains(confidence),
                  let label = checked(o.label, max: maxFieldCharacters),
                  let classId = bounded(o.classId, 0...1_000_000), !o.badTrack else { return nil }
            let trackId = o.trackId.flatMap { bounded($0, 1...maxTrackID) }
            if o.trackId != nil && trackId == nil { return nil }
            return LabeledDetection(label: ChatLimits.strippingControls(label), classId: classId, confidence: confidence,
                                    x: x, y: y, width: w, height: h, trackId: trackId, predicted: o.predicted)
        }
        dropped += raw.count - objects.count
        return EnvelopeDetections(width: frameWidth, height: frameHeight, objects: objects)
    }

    private static func bounded(_ value: Double?, _ range: ClosedRange<Int>) -> Int? {
        guard let i = value.flatMap(integer), range.contains(i) else { return nil }
        return i
    }
}
