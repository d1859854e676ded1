import CGStreamer
import ProcessSupport
import XCTest

/// The staged plugin as a user meets it: gst-inspect-1.0 and gst-launch-1.0 with
/// GST_PLUGIN_PATH=build/gst-plugins.
final class PipelineTests: XCTestCase {
    func testGstInspectDocumentsEveryProperty() throws {
        let process = gstLaunchProcess(["swiftyolo"])
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gst-inspect-1.0")
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        for property in ["model", "labels", "head", "input-size", "conf-threshold", "iou-threshold", "max-detections",
                         "classes", "interval", "mode", "device", "threads", "post-messages", "stats", "model-info"] {
            XCTAssertTrue(text.contains("\n  \(property) "), "gst-inspect does not document \(property)")
        }
        for format in ["RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA", "I420", "NV12"] {
            XCTAssertTrue(text.contains("(string)\(format)"), format)
        }
        XCTAssertTrue(text.contains("libgstswiftyolo.so"))
    }

    func testDefaultModelOnTheBallPrintsDetectionLines() throws {
        let result = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=20", "!",
                                    "video/x-raw,width=640,height=480,format=I420", "!", "swiftyolo", "post-messages=true",
                                    "!", "fakesink"], messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = detectionLines(result.stdout)
        XCTAssertEqual(lines.count, 20)
        let found = lines.filter { (($0["objects"] as? [[String: Any]]) ?? []).first?["label"] as? String == "ball" }
        XCTAssertGreaterThanOrEqual(found.count, 18)
    }

    /// Behind a tee the frame's memory is shared with the other branch: the element reads
    /// it in place and still attaches its results.
    func testDetectsBehindATeeWhoseMemoryIsShared() throws {
        let result = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=10", "!", "video/x-raw,width=320,height=240",
                                    "!", "tee", "name=t", "!", "queue", "!", "swiftyolo", "post-messages=true", "!",
                                    "fakesink", "t.", "!", "queue", "!", "fakesink"], messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = detectionLines(result.stdout)
        XCTAssertEqual(lines.count, 10)
        XCTAssertTrue(lines.allSatisfy { (($0["objects"] as? [[String: Any]]) ?? []).count == 1 }, "\(lines)")
    }

    func testFastestDetFindsTheRightCOCOClassInPhotos() throws {
        let model = try Paths.sharedModel("fastestdet-coco-352.torchscript")
        let labels = try Paths.sharedModel("coco80-darknet.names")
        let photos = "/usr/lib/python3/dist-packages/skimage/data"
        guard FileManager.default.fileExists(atPath: photos + "/astronaut.png") else {
            throw SetupFailure("python3-skimage's photos are absent (scripts/install-deps.sh installs python3-skimage)")
        }
        for (photo, expected) in [("astronaut", "person"), ("chelsea", "cat"), ("coffee", "cup")] {
            for format in ["BGRx", "NV12"] {
                let result = try gstLaunch(["filesrc", "location=\(photos)/\(photo).png", "!", "pngdec", "!", "videoconvert", "!",
                                            "video/x-raw,format=\(format)", "!", "imagefreeze", "num-buffers=1", "!",
                                            "swiftyolo", "model=\(model)", "labels=\(labels)", "conf-threshold=0.5",
                                            "post-messages=true", "!", "fakesink"], messages: true)
                XCTAssertEqual(result.status, 0, result.stderr)
                let objects = detectionLines(result.stdout).first?["objects"] as? [[String: Any]] ?? []
                let best = objects.max { ($0["confidence"] as? Double ?? 0) < ($1["confidence"] as? Double ?? 0) }
                XCTAssertEqual(best?["label"] as? String, expected, "\(photo) as \(format): \(objects)")
            }
        }
    }

    func testYoloV8nRunsAtItsFixedInputFromMetadata() throws {
        let model = try Paths.sharedModel("yolov8n-random-640.torchscript")
        let h = Harness("swiftyolo", properties: ["model": model, "input-size": 320, "post-messages": true])
        h.addSource("videotestsrc ! capsfilter caps=\"video/x-raw,format=NV12,width=1280,height=720,framerate=30/1\"")
        guard let buffer = h.pushAndPull() else { return XCTFail("no buffer: \(h.errorMessage() ?? "")") }
        gst_buffer_unref(buffer)
        let info = h.get("model-info")
        XCTAssertTrue(info.contains("input-width=(int)640") && info.contains("input-height=(int)640"), info)
        XCTAssertTrue(info.contains("head=(string)yolov8") && info.contains("classes=(int)80"), info)
        XCTAssertEqual(h.jsonMessages(named: "swiftyolo").count, 1)
    }

    func testAsyncLiveSourceKeepsEveryFrame() throws {
        let result = try gstLaunch(["videotestsrc", "is-live=true", "pattern=ball", "num-buffers=45", "!",
                                    "video/x-raw,width=640,height=480,framerate=30/1", "!", "swiftyolo", "mode=async",
                                    "post-messages=true", "!", "fakesink", "sync=true"], messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(detectionLines(result.stdout).count, 45)
    }

    func testStateCyclesRestartCleanly() throws {
        let h = Harness("swiftyolo")
        for _ in 0..<3 {
            gst_element_set_state(h.element, GST_STATE_NULL)
            XCTAssertNotEqual(gst_element_set_state(h.element, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE)
        }
    }
}
