import CGStreamer
import ChatCastSEI

/// What H.264 or H.265 caps say that SEI readers and writers need: the codec, how NAL units
/// are delimited and the frame size that detections are scaled to.
struct CodedStreamInfo {
    var codec = VideoCodec.h264
    var format = AccessUnitFormat.annexB
    var width = 0, height = 0

    init() {}

    /// From a CAPS event; nil for other events.
    init?(capsEvent event: UnsafeMutablePointer<GstEvent>) {
        guard event.pointee.type == GST_EVENT_CAPS else { return nil }
        var caps: UnsafeMutablePointer<GstCaps>? = nil
        gst_event_parse_caps(event, &caps)
        guard let caps, gst_caps_get_size(caps) > 0, let s = gst_caps_get_structure(caps, 0) else { return nil }
        var w: Int32 = 0, h: Int32 = 0
        if gst_structure_get_int(s, "width", &w) != 0 { width = Int(w) }
        if gst_structure_get_int(s, "height", &h) != 0 { height = Int(h) }
        if gst_structure_has_name(s, "video/x-h265") != 0 { codec = .h265 }
        let streamFormat = gst_structure_get_string(s, "stream-format").map { String(cString: $0) } ?? "byte-stream"
        if ["avc", "avc3", "hvc1", "hev1"].contains(streamFormat) {
            // lengthSizeMinusOne in the low bits of avcC's byte 4, of hvcC's byte 21.
            var lengthSize = 4
            if let value = gst_structure_get_value(s, "codec_data"), let boxed = g_value_get_boxed(value) {
                var byte: UInt8 = 0
                if gst_buffer_extract(boxed.assumingMemoryBound(to: GstBuffer.self), codec == .h264 ? 4 : 21, &byte, 1) == 1 {
                    lengthSize = Int(byte & 3) + 1
                }
            }
            format = .lengthPrefixed(lengthSize: lengthSize)
        }
    }
}
