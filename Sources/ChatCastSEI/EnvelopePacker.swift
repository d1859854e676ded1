/// Fills envelopes up to the 4 KiB SEI limit: detections first (the lowest scores go when
/// they alone are too many), then chat messages in order; what does not fit waits for the
/// next frame. Each part is written once and sizes are added, so packing stays linear.
public enum EnvelopePacker {
    public struct Packed {
        public var envelope: ChatEnvelope
        /// The envelope's bytes, ready for the SEI.
        public var payload: [UInt8]
        public var rest: [ChatMessage]
    }

    public static func pack(chat: [ChatMessage], detections: EnvelopeDetections?,
                            limit: Int = ChatEnvelope.maxPayloadBytes) -> Packed {
        var kept = detections
        var detectionsText = detections.map(ChatEnvelope.detectionsJSON)
        if var d = detections, let text = detectionsText,
           ChatEnvelope.assembledLength(messageLengths: [], detectionsLength: text.utf8.count) > limit {
            d.objects.sort { $0.confidence > $1.confidence }
            func fits(_ count: Int) -> String? {
                let t = ChatEnvelope.detectionsJSON(EnvelopeDetections(width: d.width, height: d.height,
                                                                       objects: Array(d.objects.prefix(count))))
                return ChatEnvelope.assembledLength(messageLengths: [], detectionsLength: t.utf8.count) <= limit ? t : nil
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
        var parts: [String] = [], lengths: [Int] = []
        let detectionsLength = detectionsText?.utf8.count
        for message in chat {
            let text = ChatEnvelope.messageJSON(message)
            guard ChatEnvelope.assembledLength(messageLengths: lengths + [text.utf8.count], detectionsLength: detectionsLength)
                <= limit else { break }
            parts.append(text)
            lengths.append(text.utf8.count)
        }
        let envelope = ChatEnvelope(chat: Array(chat.prefix(parts.count)), detections: kept)
        return Packed(envelope: envelope, payload: ChatEnvelope.assemble(messages: parts, detections: detectionsText),
                      rest: Array(chat.dropFirst(parts.count)))
    }
}
