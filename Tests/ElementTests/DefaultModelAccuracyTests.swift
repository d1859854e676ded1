import CGStreamer
import XCTest

/// The bundled model against the ball's true position (from the pixels), on frame sizes
/// and frames it was not trained on: precision and recall at IoU ≥ 0.5 must reach 0.9.
final class DefaultModelAccuracyTests: XCTestCase {
    func testPrecisionAndRecallOnUnseenFrames() throws {
        var truePositives = 0, falsePositives = 0, falseNegatives = 0
        // pattern=ball's own motion (wavy), at sizes the model saw and sizes it never saw.
        for (width, height) in [(400, 300), (1024, 576), (1280, 720), (800, 600)] {
            // Training used frames 0–159 of each clip: skip past them without inferring.
            let h = Harness("swiftyolo", properties: ["interval": 10_000])
            h.addSource("videotestsrc pattern=ball animation-mode=frames ! capsfilter caps=\"video/x-raw,format=NV12,width=\(width),height=\(height),framerate=30/1\"")
            for frame in 0..<340 {
                if frame == 179 { h.set("interval", 1) }
                guard let buffer = h.pushAndPull() else { return XCTFail("no buffer at \(width)x\(height)") }
                defer { gst_buffer_unref(buffer) }
                guard frame >= 180, frame % 4 == 1 else { continue }
                let truth = ballBox(in: buffer, format: "NV12", width: width, height: height)
                var matched = false
                for region in regions(buffer) {
                    if let truth, !matched, region.label == "ball", iou(region.box, truth) >= 0.5 {
                        truePositives += 1
                        matched = true
                    } else {
                        falsePositives += 1
                    }
                }
                if truth != nil && !matched { falseNegatives += 1 }
            }
        }
        let precision = Double(truePositives) / Double(max(1, truePositives + falsePositives))
        let recall = Double(truePositives) / Double(max(1, truePositives + falseNegatives))
        print("default model: precision \(precision), recall \(recall) over \(truePositives + falseNegatives) balls")
        XCTAssertGreaterThanOrEqual(precision, 0.9)
        XCTAssertGreaterThanOrEqual(recall, 0.9)
    }
}
