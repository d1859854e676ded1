import CGStreamer
import CGstRTSPServer

/// Keeps an appsrc's queue within its `max-bytes` (appsrc alone only signals "enough data"
/// and queues on when not told to block, and blocking would stall the room for everyone):
/// a buffer that does not fit is dropped and counted, and the track then skips to its next
/// key frame — a picture never decodes from a GOP with a hole. Sound frames are all key
/// frames, so sound goes on with the next one that fits.
public struct AppSourceBound: Sendable {
    public private(set) var dropped = 0
    private var skipping = false

    public init() {}

    /// Whether a buffer of `size` bytes goes in, given the queue's `level` and `limit` in bytes.
    public mutating func admit(size: Int, level: Int, limit: Int, isKeyFrame: Bool) -> Bool {
        if skipping && !isKeyFrame {
            dropped += 1
            return false
        }
        guard level + size <= limit else {
            skipping = true
            dropped += 1
            return false
        }
        skipping = false
        return true
    }

    /// Pushes `buffer` (taking its reference) into `source` when it is admitted; false when
    /// it was dropped.
    @discardableResult
    public mutating func push(_ buffer: UnsafeMutablePointer<GstBuffer>, into source: UnsafeMutablePointer<GstElement>) -> Bool {
        let isKey = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
        let admitted = source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { appsrc in
            admit(size: Int(gst_buffer_get_size(buffer)), level: Int(gst_app_src_get_current_level_bytes(appsrc)),
                  limit: Int(gst_app_src_get_max_bytes(appsrc)), isKeyFrame: isKey)
        }
        guard admitted else {
            gst_mini_object_unref(UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: GstMiniObject.self))
            return false
        }
        _ = source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_push_buffer($0, buffer) }
        return true
    }
}
