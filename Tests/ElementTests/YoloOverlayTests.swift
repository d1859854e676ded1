import CGStreamer
import CGstCheck
import CGstGlue
import GstSwift
import Foundation
import XCTest

/// The picture test: boxes and labels land on the pixels where the ROI metas say.
final class YoloOverlayTests: XCTestCase {
    func testDrawsTheBoxAndLabelWhereTheMetaSays() throws {
        let h = Harness("yolooverlay")
        gst_harness_set_src_caps_str(h.pointer, "video/x-raw,format=BGRx,width=320,height=240,framerate=30/1")
        let buffer = gst_harness_create_buffer(h.pointer, 320 * 240 * 4)!
        gst_buffer_memset(buffer, 0, 0, 320 * 240 * 4)
        BufferRef(buffer).addDetection(label: "ball", classId: 0, confidence: 0.9, x: 50, y: 100, width: 100, height: 80)
        let bytes = try pushAndReadBytes(h, buffer)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { (0..<3).map { bytes[(y * 320 + x) * 4 + $0] } }
        let orange: [UInt8] = [0, 184, 255]  // class 0: R 1.0, G 0.72, B 0 as BGR bytes
        for (x, y) in [(51, 140), (148, 140), (100, 101), (100, 178)] {
            XCTAssertEqual(pixel(x, y), orange, "box edge at \(x),\(y)")
        }
        XCTAssertEqual(pixel(100, 140), [0, 0, 0], "inside the box stays untouched")
        XCTAssertEqual(pixel(10, 10), [0, 0, 0], "away from the box stays untouched")
        // The label sits on a filled tab above the box, with dark text on it.
        let tab = (52..<110).flatMap { x in (85..<99).map { pixel(x, $0) } }
        XCTAssertGreaterThan(tab.filter { $0 == orange }.count, tab.count / 3)
        XCTAssertGreaterThan(tab.filter { $0.allSatisfy { $0 < 60 } }.count, 10, "text pixels")
    }

    /// As a person checks it: detect the ball, draw, save a PNG; its box pixels are orange.
    func testSavesAnOverlaidFrameAsPNG() throws {
        let path = NSTemporaryDirectory() + "chatcast-overlay-\(getpid()).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=1", "!", "video/x-raw,width=640,height=480",
                                    "!", "swiftyolo", "!", "videoconvert", "!", "yolooverlay", "!", "videoconvert", "!",
                                    "pngenc", "!", "filesink", "location=\(path)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let png = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Decode it back and look for the overlay colour.
        let check = try gstLaunch(["filesrc", "location=\(path)", "!", "pngdec", "!", "videoconvert", "!",
                                   "video/x-raw,format=BGRx", "!", "fakesink", "dump=true"])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("00 b8 ff"), "no orange box pixels in the PNG")
    }

    /// The whole viewer chain in one picture: detect, encode, stamp chat, parse, decode, draw.
    func testViewerPictureShowsBoxAndChat() throws {
        let messages = NSTemporaryDirectory() + "chatcast-picture-\(getpid()).txt"
        let raw = NSTemporaryDirectory() + "chatcast-picture-\(getpid()).bgrx"
        try "alice: hi <b>there</b>\n".write(toFile: messages, atomically: true, encoding: .utf8)
        defer { for p in [messages, raw] { try? FileManager.default.removeItem(atPath: p) } }
        let result = try gstLaunch(["videotestsrc", "is-live=true", "pattern=ball", "num-buffers=15", "!",
                                    "video/x-raw,format=I420,width=640,height=480,framerate=30/1", "!", "swiftyolo", "!",
                                    "x264enc", "tune=zerolatency", "!", "h264parse", "!", "chatinject",
                                    "messages-file=\(messages)", "from-start=true", "!", "chatparse", "!", "avdec_h264", "!", "videoconvert", "!",
                                    "yolooverlay", "!", "chatoverlay", "!", "video/x-raw,format=BGRx", "!", "multifilesink",
                                    "location=\(raw)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let pixels = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))  // the last frame
        XCTAssertEqual(pixels.count, 640 * 480 * 4)
        func isWhite(_ x: Int, _ y: Int) -> Bool { (0..<3).allSatisfy { pixels[(y * 640 + x) * 4 + $0] > 220 } }
        func isOrange(_ x: Int, _ y: Int) -> Bool {
            let p = (pixels[(y * 640 + x) * 4], pixels[(y * 640 + x) * 4 + 1], pixels[(y * 640 + x) * 4 + 2])
            return p.0 < 60 && (150...220).contains(p.1) && p.2 > 220
        }
        let chatArea = (5..<300).flatMap { x in (400..<475).map { (x, $0) } }
        XCTAssertGreaterThan(chatArea.filter { isWhite($0.0, $0.1) }.count, 200, "chat text bottom-left")
        XCTAssertFalse((0..<640).contains { x in (0..<200).contains { isWhite(x, $0) && x < 300 && $0 < 100 } },
                       "no chat text drawn big at the top")
        let orange = (0..<640).reduce(0) { n, x in n + (0..<480).filter { isOrange(x, $0) }.count }
        XCTAssertGreaterThan(orange, 100, "box and label tab around the ball")
    }
}
