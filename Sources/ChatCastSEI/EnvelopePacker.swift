/// Fills envelopes up to the 4 KiB SEI limit: detections first (the lowest scores go when
/// they alone are too many), then chat messages in order; what does not fit waits for the
/// next frame.
public enum EnvelopePacker {
    public static func pack(chat: [ChatMessage], detections: EnvelopeDetections?,
                            limit: Int = ChatEnvelope.maxPayloadBytes) -> (envelope: ChatEnvelope, rest: [ChatMessage]) {
        var envelope = ChatEnvelope(detections: detections)
        if var d = detections, envelope.encode().count > limit {
            d.objects.sort { $0.confidence > $1.confidence }
            // Halve until it fits, then grow back one by one: few encodes even for 1000 objects.
            var keep = d.objects.count
            repeat {
                keep /= 2
                envelope.detections = EnvelopeDetections(width: d.width, height: d.height, objects: Array(d.objects.prefix(keep)))
            } while keep > 0 && envelope.encode().count > limit
            while keep < d.objects.count {
                let candidate = EnvelopeDetections(width: d.width, height: d.height, objects: Array(d.objects.prefix(keep + 1)))
                guard ChatEnvelope(detections: candidate).encode().count <= limit else { break }
                keep += 1
                envelope.detections = candidate
            }
        }
        var taken = 0
        for message in chat {
            envelope.chat.append(message)
            if envelope.encode().count > limit {
                envelope.chat.removeLast()
                break
            }
            taken += 1
        }
        return (envelope, Array(chat.dropFirst(taken)))
    }
}
