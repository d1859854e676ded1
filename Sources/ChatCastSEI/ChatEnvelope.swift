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

    public func encode() -> [UInt8] { Array(JSONWriter.write(jsonValue).utf8) }

    var jsonValue: JSONValue {
        var members: [(String, JSONValue)] = [("v", .number(1))]
        if !chat.isEmpty {
            members.append(("chat", .array(chat.map { m in
                .object([("id", .string(m.id)), ("room", .string(m.room)), ("nick", .string(m.nick)),
                         ("text", .string(m.text)), ("time", .string(m.time))])
            })))
        }
        if let d = detections {
            members.append(("det", .object([
                ("width", .number(Double(d.width))), ("height", .number(Double(d.height))),
                ("objects", .array(d.objects.map(DetectionsLine.object))),
            ])))
        }
        return .object(members)
    }
}
