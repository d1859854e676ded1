import CGStreamer
import CGstRTSPServer
import ChatCastRTSP
import XCTest

/// The RTSP side feeds each viewer and each recording through an appsrc: one that cannot
/// keep up loses buffers (up to its next key frame), never grows without bound.
final class AppSourceBoundTests: XCTestCase {
    func testDropsWhatDoesNotFitThenSkipsToTheNextKeyFrame() {
        var bound = AppSourceBound()
        XCTAssertTrue(bound.admit(size: 40, level: 0, limit: 100, isKeyFrame: true))
        XCTAssertTrue(bound.admit(size: 40, level: 40, limit: 100, isKeyFrame: false))
        XCTAssertFalse(bound.admit(size: 40, level: 80, limit: 100, isKeyFrame: false), "full")
        XCTAssertFalse(bound.admit(size: 40, level: 0, limit: 100, isKeyFrame: false), "room again, but mid-GOP")
        XCTAssertTrue(bound.admit(size: 40, level: 0, limit: 100, isKeyFrame: true), "goes on from a key frame")
        XCTAssertTrue(bound.admit(size: 40, level: 40, limit: 100, isKeyFrame: false))
        XCTAssertEqual(bound.dropped, 2)
    }

    func testAStalledAppSourceNeverHoldsMoreThanItsLimit() throws {
        _ = GStreamerOnce.ready
        var error: UnsafeMutablePointer<GError>? = nil
        // 20 ms per buffer downstream, buffers offered as fast as the loop goes.
        let pipeline = gst_parse_launch("appsrc name=src format=time max-bytes=20000 ! identity sleep-time=20000 ! fakesink sync=false",
                                        &error)!
        defer {
            gst_element_set_state(pipeline, GST_STATE_NULL)
            gst_object_unref(pipeline)
        }
        XCTAssertNil(error)
        let source = gst_bin_get_by_name(UnsafeMutableRawPointer(pipeline).assumingMemoryBound(to: GstBin.self), "src")!
        defer { gst_object_unref(source) }
        gst_element_set_state(pipeline, GST_STATE_PLAYING)
        var bound = AppSourceBound()
        var admitted: [Int] = []
        for i in 0..<300 {
            let buffer = gst_buffer_new_allocate(nil, 1000, nil)!
            if i % 30 != 0 { buffer.pointee.mini_object.flags |= GST_BUFFER_FLAG_DELTA_UNIT.rawValue }
            buffer.pointee.pts = GstClockTime(i) * 33_000_000
            if bound.push(buffer, into: source) { admitted.append(i) }
            let level = source.withMemoryRebound(to: GstAppSrc.self, capacity: 1) { gst_app_src_get_current_level_bytes($0) }
            XCTAssertLessThanOrEqual(level, 20000)
        }
        XCTAssertGreaterThan(bound.dropped, 100, "most were dropped: the sink takes one per 20 ms")
        XCTAssertEqual(bound.dropped + admitted.count, 300)
        // After each run of drops the stream goes on from a key frame.
        for (previous, next) in zip(admitted, admitted.dropFirst()) where next != previous + 1 {
            XCTAssertEqual(next % 30, 0, "buffer \(next) follows a gap after \(previous)")
        }
    }
}
