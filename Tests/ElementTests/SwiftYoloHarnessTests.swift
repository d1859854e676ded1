import CGStreamer
import CGstCheck
import XCTest

/// The element driven through the gst-check harness, in process.
final class SwiftYoloHarnessTests: XCTestCase {
    static let formats = ["RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA", "I420", "NV12"]

    /// Every format the element takes, at an odd size that needs stride padding and a
    /// letterbox: the default model finds the ball where the pixels say it is.
    func testEveryInputFormatFindsTheBall() throws {
        for format in Self.formats {
            let h = Harness("swiftyolo")
            h.addSource("videotestsrc pattern=ball animation-mode=frames ! capsfilter caps=\"video/x-raw,format=\(format),width=642,height=362,framerate=30/1\"")
            var checked = 0
            for i in 0..<12 {
                guard let buffer = h.pushAndPull() else { return XCTFail("\(format): no buffer, error: \(h.errorMessage() ?? "none")") }
                defer { gst_buffer_unref(buffer) }
                guard i % 3 == 0, let truth = ballBox(in: buffer, format: format, width: 642, height: 362),
                      truth.w >= 30, truth.h >= 30 else { continue }
                let found = regions(buffer)
                XCTAssertEqual(found.count, 1, "\(format) frame \(i): \(found)")
                if let ball = found.first {
                    XCTAssertEqual(ball.label, "ball")
                    XCTAssertGreaterThan(ball.confidence, 0.5)
                    XCTAssertGreaterThan(iou(ball.box, truth), 0.5, "\(format) frame \(i): \(ball.box) vs \(truth)")
                }
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, 3, format)
        }
    }

    func testPostsDetectionsLinesAndKeepsStatistics() throws {
        let h = Harness("swiftyolo", properties: ["post-messages": true])
        h.addSource("videotestsrc pattern=ball ! capsfilter caps=\"video/x-raw,format=NV12,width=320,height=240,framerate=30/1\"")
        for _ in 0..<5 { if let b = h.pushAndPull() { gst_buffer_unref(b) } }
        let lines = h.jsonMessages(named: "swiftyolo")
        XCTAssertEqual(lines.count, 5)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["type"] as? String, "detections")
        XCTAssertEqual(first["pts"] as? Int, 0)
        XCTAssertEqual(first["width"] as? Int, 320)
        XCTAssertEqual(first["height"] as? Int, 240)
        let objects = first["objects"] as! [[String: Any]]
        XCTAssertEqual(objects.first?["label"] as? String, "ball")
        for key in ["class_id", "confidence", "x", "y", "w", "h"] { XCTAssertNotNil(objects.first?[key], key) }
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        XCTAssertEqual(second["pts"] as? Int, 33_333_333)

        let stats = h.get("stats")
        XCTAssertTrue(stats.contains("frames=(guint64)5"), stats)
        XCTAssertTrue(stats.contains("inferences=(guint64)5"), stats)
        XCTAssertTrue(stats.contains("inference-p95-ms"), stats)
        let info = h.get("model-info")
        XCTAssertTrue(info.contains("head=(string)yolov8"), info)
        XCTAssertTrue(info.contains("classes=(int)1"), info)
    }

    func testIntervalCarriesResultsBetweenInferences() {
        let h = Harness("swiftyolo", properties: ["interval": 3])
        h.addSource("videotestsrc pattern=ball animation-mode=frames ! capsfilter caps=\"video/x-raw,format=I420,width=320,height=240,framerate=30/1\"")
        var counts: [Int] = []
        for _ in 0..<7 {
            guard let b = h.pushAndPull() else { return XCTFail("no buffer") }
            counts.append(regions(b).count)
            gst_buffer_unref(b)
        }
        XCTAssertEqual(counts, Array(repeating: 1, count: 7))
        XCTAssertTrue(h.get("stats").contains("inferences=(guint64)3"), h.get("stats"))
    }

    func testThresholdsAndClassFilterApplyWhilePlaying() {
        let h = Harness("swiftyolo")
        h.addSource("videotestsrc pattern=ball ! capsfilter caps=\"video/x-raw,format=RGBx,width=320,height=240,framerate=30/1\"")
        guard let b1 = h.pushAndPull() else { return XCTFail("no buffer") }
        XCTAssertEqual(regions(b1).count, 1)
        gst_buffer_unref(b1)
        h.set("classes", "person")
        guard let b2 = h.pushAndPull() else { return XCTFail("no buffer") }
        XCTAssertEqual(regions(b2).count, 0, "ball is filtered out by classes=person")
        gst_buffer_unref(b2)
        let warning = h.warningMessage() ?? ""
        XCTAssertTrue(warning.contains("classes: person not among the model's labels (ball"), warning)
        h.set("classes", "ball")
        h.set("max-detections", 0)
        guard let b3 = h.pushAndPull() else { return XCTFail("no buffer") }
        XCTAssertEqual(regions(b3).count, 0, "max-detections=0 keeps nothing")
        gst_buffer_unref(b3)
        h.set("max-detections", 100)
        h.set("conf-threshold", 1.0)
        guard let b4 = h.pushAndPull() else { return XCTFail("no buffer") }
        XCTAssertEqual(regions(b4).count, 0, "nothing reaches confidence 1.0")
        gst_buffer_unref(b4)
    }

    func testAsyncModeNeverWaitsAndCatchesUp() {
        let h = Harness("swiftyolo", properties: ["mode": "async"])
        h.addSource("videotestsrc pattern=ball ! capsfilter caps=\"video/x-raw,format=NV12,width=640,height=480,framerate=30/1\"")
        // The first frames leave before any result exists (nothing waits for the model); once
        // one exists, every later frame carries the newest. How many frames pass first
        // depends on the machine's load, so only the order is asserted.
        var pushed = 0, firstResult: Int?, afterFirst = 0, afterFirstWithBall = 0
        while pushed < 600 && afterFirst < 30 {
            guard let b = h.pushAndPull() else { return XCTFail("no buffer") }
            let found = regions(b).count == 1
            gst_buffer_unref(b)
            if found && firstResult == nil { firstResult = pushed }
            if firstResult != nil {
                afterFirst += 1
                if found { afterFirstWithBall += 1 }
            }
            pushed += 1
            usleep(5_000)
        }
        XCTAssertNotNil(firstResult, "no result in \(pushed) frames")
        XCTAssertEqual(afterFirstWithBall, afterFirst, "frames after the first result carry the newest one")
        XCTAssertTrue(h.get("stats").contains("frames=(guint64)\(pushed)"), h.get("stats"))
    }

    func testRefusedFormatIsAnElementErrorNamingTheFormat() {
        let h = Harness("swiftyolo")
        gst_harness_set_src_caps_str(h.pointer, "video/x-raw,format=YUY2,width=64,height=64,framerate=30/1")
        let flow = gst_harness_push(h.pointer, gst_harness_create_buffer(h.pointer, 64 * 64 * 2))
        XCTAssertNotEqual(flow, GST_FLOW_OK)
        let error = h.errorMessage()
        XCTAssertNotNil(error)
        XCTAssertTrue(error?.contains("cannot take video format YUY2") ?? false, error ?? "")
        XCTAssertTrue(error?.contains("videoconvert") ?? false, error ?? "")
    }
}
