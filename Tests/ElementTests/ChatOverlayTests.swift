import CGStreamer
import CGstCheck
import CGstGlue
import ChatCastSEI
import GstChatSink
import GstSwift
import XCTest

/// Chat lines land bottom-left as small plain text, markup shown literally, and age out.
final class ChatOverlayTests: XCTestCase {
    func frame(_ h: Harness, pts: UInt64, chat: [ChatMessage]) throws -> [UInt8] {
        let buffer = gst_harness_create_buffer(h.pointer, 320 * 240 * 4)!
        gst_buffer_memset(buffer, 0, 0, 320 * 240 * 4)
        cgst_buffer_set_pts(buffer, GstClockTime(pts))
        for m in chat { BufferRef(buffer).addChatMessage(m) }
        return try pushAndReadBytes(h, buffer)
    }

    /// Rows (top to bottom) that contain white text pixels.
    func textRows(_ pixels: [UInt8]) -> [Int] {
        (0..<240).filter { y in (0..<320).contains { x in pixels[(y * 320 + x) * 4 + 1] > 200 } }
    }

    func testDrawsChatBottomLeftAsPlainTextAndAgesItOut() throws {
        let h = Harness("chatoverlay", properties: ["duration": 2.0])
        gst_harness_set_src_caps_str(h.pointer, "video/x-raw,format=BGRx,width=320,height=240,framerate=30/1")
        let markup = ChatMessage(id: "1", room: "lobby", nick: "alice", text: #"<span size="400000">BIG</span>"#, time: "t")
        let first = try frame(h, pts: 0, chat: [markup])
        let rows = textRows(first)
        XCTAssertFalse(rows.isEmpty, "the line is drawn")
        XCTAssertGreaterThan(rows.min() ?? 0, 120, "in the lower half: small text, markup not interpreted")
        let columns = (0..<320).filter { x in rows.contains { y in first[(y * 320 + x) * 4 + 1] > 200 } }
        XCTAssertLessThan(columns.min() ?? 999, 30, "starts at the left")
        // Still there one second later (carried without a new meta), gone after the duration.
        XCTAssertFalse(textRows(try frame(h, pts: 1_000_000_000, chat: [])).isEmpty)
        XCTAssertTrue(textRows(try frame(h, pts: 3_100_000_000, chat: [])).isEmpty)
    }
}
