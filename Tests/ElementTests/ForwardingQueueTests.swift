import CGStreamer
import CGstGlue
import Foundation
import ProcessSupport
import XCTest

/// chatsink forwards the stream's chat to an IRC room; while the server cannot be reached
/// what waits is bounded, the oldest go first, and the drops are counted and reported.
final class ForwardingQueueTests: XCTestCase {
    func testChatSinkKeepsAtMost200WaitingWhileTheServerIsUnreachable() throws {
        _ = GStreamerOnce.ready
        let messages = NSTemporaryDirectory() + "chatcast-forward-\(UUID().uuidString).txt"
        try (1...300).map { "viewer: waiting line \($0)\n" }.joined().write(toFile: messages, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: messages) }
        let unreachable = freePort()  // nothing listens there
        var error: UnsafeMutablePointer<GError>? = nil
        let pipeline = gst_parse_launch("""
            videotestsrc is-live=true num-buffers=45 ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 \
            ! x264enc tune=zerolatency speed-preset=ultrafast ! h264parse ! chatinject messages-file=\(messages) from-start=true \
            ! chatparse ! chatsink name=s location=/dev/null server=irc://127.0.0.1:\(unreachable) room=lobby
            """, &error)!
        defer { gst_object_unref(pipeline) }
        XCTAssertNil(error)
        gst_element_set_state(pipeline, GST_STATE_PLAYING)
        let bus = gst_element_get_bus(pipeline)!
        defer { gst_object_unref(bus) }
        var warnings: [String] = []
        var ended = false
        while !ended, let message = gst_bus_timed_pop_filtered(bus, 30_000_000_000, GstMessageType(
            rawValue: GST_MESSAGE_EOS.rawValue | GST_MESSAGE_ERROR.rawValue | GST_MESSAGE_WARNING.rawValue)) {
            defer { gst_message_unref(message) }
            switch message.pointee.type {
            case GST_MESSAGE_WARNING:
                var gerror: UnsafeMutablePointer<GError>? = nil
                gst_message_parse_warning(message, &gerror, nil)
                warnings.append(String(cString: gerror!.pointee.message))
                g_error_free(gerror)
            case GST_MESSAGE_ERROR:
                XCTFail("the pipeline failed")
                ended = true
            default: ended = true
            }
        }
        XCTAssertTrue(ended, "the pipeline reached EOS")
        let sink = gst_bin_get_by_name(UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self), "s")!
        defer { gst_object_unref(sink) }
        var value = GValue()
        g_value_init(&value, cgst_type_uint())
        g_object_get_property(UnsafeMutableRawPointer(sink).assumingMemoryBound(to: GObject.self), "dropped", &value)
        XCTAssertEqual(g_value_get_uint(&value), 100, "300 waited, 200 kept")
        XCTAssertTrue(warnings.contains { $0.contains("forwarding queue is full") }, "\(warnings)")
        gst_element_set_state(pipeline, GST_STATE_NULL)
    }
}
