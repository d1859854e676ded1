/// Fills envelopes up to the 4 KiB SEI limit. Chat always gets its share: while messages
/// wait, detections may take at most what chat leaves of the envelope and never more than
/// `limit - chatShare` (the lowest scores go first), so every envelope carries at least the
/// oldest waiting message (`ChatLimits` keeps any one message within `chatShare`). Messages
/// go in order; what does not fit waits for the next frame. Each part is written once and
/// sizes are added, so packing stays linear.
public enum EnvelopePacker {
    public struct Packed {
        public var envelope: ChatEnvelope
        /// The envelope's bytes, ready for the SEI.
        public var payload: [UInt8]
        /// How many of `chat` (from its start) went into this envelope.
        public var sent: Int
        public var rest: [ChatMessage]
    }

    /// The bytes of an envelope kept for chat whenever chat waits.
    public static let chatShare = ChatEnvelope.maxPayloadBytes / 2

    /// `repeated` are recent messages repeated for late joiners (on key frames): they come
    /// first in the envelope but give way, oldest first, to the first of `chat`.
    public static func pack(repeated: [ChatMessage] = [], chat: [ChatMessage], detections: EnvelopeDetections?,
                            limit: Int = ChatEnvelope.maxPayloadBytes) -> Packed {
        // Waiting chat up to what could fit in a whole envelope by itself.
        var repeatedParts = repeated.suffix(EnvelopeDecoder.maxMessages / 2).map(ChatEnvelope.messageJSON)
        var chatParts: [String] = [], chatLength = 0
        for message in chat where chatParts.count < EnvelopeDecoder.maxMessages {
            let text = ChatEnvelope.messageJSON(message)
            guard ChatEnvelope.assembledLength(messageLengths: [chatLength + text.utf8.count + chatParts.count],
                                               detectionsLength: nil) <= limit else { break }
            chatParts.append(text)
            chatLength += text.utf8.count
        }
        let chatNeeds = repeatedParts.isEmpty && chatParts.isEmpty ? 0 : length(repeatedParts + chatParts, nil)
        var kept = detections
        var detectionsText = detections.map(ChatEnvelope.detectionsJSON)
        if var d = detections, let text = detectionsText, length([], text) + chatNeeds > limit {
            // Detections alone may use what chat leaves, and at least `limit - chatShare`.
            let budget = limit - min(chatNeeds, chatShare)
            d.objects.sort { $0.confidence > $1.confidence }
            func fits(_ count: Int) -> String? {
                let t = ChatEnvelope.detectionsJSON(EnvelopeDetections(width: d.width, height: d.height,
                                                                       objects: Array(d.objects.prefix(count))))
                return length([], t) <= budget ? t : nil
            }
            // Binary search for the most objects that fit.
            var low = 0, high = d.objects.count
            while low < high {
                let mid = (low + high + 1) / 2
                if fits(mid) != nil { low = mid } else { high = mid - 1 }
            }
            d.objects = Array(d.objects.prefix(low))
            kept = d
            detectionsText = fits(low)
        }
        // Repeats give way, oldest first, until they fit beside the first waiting message.
        let first = Array(chatParts.prefix(1))
        while !repeatedParts.isEmpty, length(repeatedParts + first, detectionsText) > limit {
            repeatedParts.removeFirst()
        }
        var parts = repeatedParts, sent = 0
        for text in chatParts where parts.count < EnvelopeDecoder.maxMessages {
            guard length(parts + [text], detectionsText) <= limit else { break }
            parts.append(text)
            sent += 1
        }
        let envelope = ChatEnvelope(chat: Array(repeated.suffix(repeatedParts.count)) + chat.prefix(sent), detections: kept)
        return Packed(envelope: envelope, payload: ChatEnvelope.assemble(messages: parts, detections: detectionsText),
                      sent: sent, rest: Array(chat.dropFirst(sent)))
    }

    private static func length(_ parts: [String], _ detections: String?) -> Int {
        ChatEnvelope.assembledLength(messageLengths: parts.map(\.utf8.count), detectionsLength: detections?.utf8.count)
    }
}
