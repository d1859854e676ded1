import CGStreamer
import CGstGlue
import ChatCastSEI
import GstSwift
import YoloCore

extension BufferRef {
    /// Attaches a chat meta; false when the buffer is not writable.
    @discardableResult
    public func addChatMessage(_ m: ChatMessage) -> Bool {
        cgst_buffer_add_chat_message(pointer, m.id, m.room, m.nick, m.text, m.time) != 0
    }

    /// The chat metas of the buffer, in order.
    public var chatMessages: [ChatMessage] {
        var result: [ChatMessage] = []
        var n: UInt32 = 0
        while let s = cgst_buffer_chat_message(pointer, n) {
            func field(_ name: String) -> String { gst_structure_get_string(s, name).map { String(cString: $0) } ?? "" }
            result.append(ChatMessage(id: field("id"), room: field("room"), nick: field("nick"), text: field("text"),
                                      time: field("time")))
            n += 1
        }
        return result
    }
}

extension RegionOfInterest {
    /// The ROI as a detection; metas without the `detection` params take their type as label.
    var labeledDetection: LabeledDetection {
        LabeledDetection(label: label ?? type, classId: classId ?? 0, confidence: confidence ?? 1, x: x, y: y,
                         width: width, height: height, trackId: trackId, predicted: predicted)
    }
}
