import ChatCastJSON
import YoloCore

/// One chat message as it travels in the video (DESIGN.md, "Metadata").
public struct ChatMessage: Equatable, Sendable {
    public var id: String
    public var room: String
    public var nick: String
    public var text: String
    /// ISO 8601 UTC, e.g. 2026-11-25T12:00:00.000Z.
    public var time: String

    public init(id: String, room: String, nick: String, text: String, time: String) {
        self.id = id
        self.room = room
        self.nick = nick
        self.text = text
        self.time = time
    }
}

/// The detections of the frame the envelope rides on, in its pixels (the same objects as
/// the JSON lines carry).
public struct EnvelopeDetections: Equatable, Sendable {
    public var width: Int, height: Int
    public var objects: [LabeledDetection]

    public init(width: Int, height: Int, objects: [LabeledDetection]) {
        self.width = width
        self.height = height
        self.objects = objects
    }
}

/// The JSON payload of ChatCast's SEI: `{"v":1,"chat":[…],"det":{…}}`.
public struct ChatEnvelope: Equatable, Sendable {
    public var chat: [ChatMessage]
    public var detections: EnvelopeDetections?

    public init(chat: [ChatMessage] = [], detections: EnvelopeDetections? = nil) {
        self.chat = chat
        self.detections = detections
    }

    /// The most a SEI payload may carry (DESIGN.md).
    public static let maxPayloadBytes = 4096

    public var isEmpty: Bool { chat.isEmpty && detections == nil }

    public func encode() -> [UInt8] {
        ChatEnvelope.assemble(messages: chat.map(ChatEnvelope.messageJSON), detections: detections.map(ChatEnvelope.detectionsJSON))
    }

    /// One chat entry as it appears inside the envelope.
    public static func messageJSON(_ m: ChatMessage) -> String {
        var o = JSONObjectWriter(capacity: 96 + m.text.utf8.count)
        o.field("id", m.id)
        o.field("room", m.room)
        o.field("nick", m.nick)
        o.field("text", m.text)
        o.field("time", m.time)
        return String(decoding: o.finish(), as: UTF8.self)
    }

    /// The `det` object as it appears inside the envelope.
    public static func detectionsJSON(_ d: EnvelopeDetections) -> String {
        var o = JSONObjectWriter(capacity: 48 + 96 * d.objects.count)
        o.field("width", d.width)
        o.field("height", d.height)
        o.field("objects", json: DetectionsLine.objectsJSON(d.objects))
        return String(decoding: o.finish(), as: UTF8.self)
    }

    /// The envelope's bytes from parts already written, so packers can size candidates by
    /// adding lengths instead of writing the whole envelope again.
    public static func assemble(messages: [String], detections: String?) -> [UInt8] {
        var out = #"{"v":1"#
        if !messages.isEmpty { out += #","chat":["# + messages.joined(separator: ",") + "]" }
        if let detections { out += #","det":"# + detections }
        out += "}"
        return Array(out.utf8)
    }

    /// The length `assemble` gives for parts of these lengths.
    public static func assembledLength(messageLengths: [Int], detectionsLength: Int?) -> Int {
        var n = 7 + 1  // {"v":1 and }
        if !messageLengths.isEmpty { n += 9 + messageLengths.reduce(0, +) + messageLengths.count - 1 + 1 }
        if let d = detectionsLength { n += 7 + d }
        return n
    }
}
