import CGStreamer
import ChatCastSEI

/// What a room's video carries of ChatCast's SEI: envelopes, and the envelopes and chat
/// messages a reader drops as malformed (counted the way `chatparse` counts them).
public struct SEICounts: Sendable, Equatable {
    public var envelopes = 0
    public var droppedEnvelopes = 0
    public var droppedMessages = 0
    public var messages = 0

    public init() {}

    /// What one access unit (Annex B, as the RECORD side's parser hands it on) carries.
    static func of(_ buffer: UnsafeMutablePointer<GstBuffer>, codec: VideoCodec) -> SEICounts {
        var counts = SEICounts()
        counts.count(buffer, codec: codec)
        return counts
    }

    mutating func add(_ other: SEICounts) {
        envelopes += other.envelopes
        droppedEnvelopes += other.droppedEnvelopes
        droppedMessages += other.droppedMessages
        messages += other.messages
    }

    private mutating func count(_ buffer: UnsafeMutablePointer<GstBuffer>, codec: VideoCodec) {
        var map = GstMapInfo()
        guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
        defer { gst_buffer_unmap(buffer, &map) }
        let bytes = UnsafeBufferPointer(start: map.data, count: Int(map.size))
        let found = AccessUnit.userData(in: bytes, format: .annexB, codec: codec)
        droppedEnvelopes += found.malformed
        for payload in found.payloads {
            guard let decoded = try? EnvelopeDecoder.read(payload) else {
                droppedEnvelopes += 1
                continue
            }
            envelopes += 1
            messages += decoded.envelope.chat.count
            droppedMessages += decoded.droppedMessages
        }
    }
}
