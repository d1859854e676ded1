import Foundation
import XCTest

/// The issue's crowded picture: FastestDet at conf-threshold=0.001 finds 300 boxes a frame,
/// enough to fill every envelope, and 5 of 20 chat lines arrived. Chat now has its share of
/// each envelope: every line arrives, in order, the k-th waiting line within k frames.
final class ChatBesideCrowdsTests: XCTestCase {
    func testTwentyLinesBesideThreeHundredBoxesAFrameArriveWithinTheirBound() throws {
        let model = try Paths.sharedModel("fastestdet-coco-352.torchscript")
        let labels = try Paths.sharedModel("coco80-darknet.names")
        let dir = NSTemporaryDirectory() + "chatcast-crowd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let messages = dir + "/chat.txt", clip = dir + "/crowd.mkv"
        // All 20 wait at the first frame: the worst case for the bound.
        let sent = (1...20).map { "line \($0) of the crowd test, " + String(repeating: "x", count: $0 * 10) }
        try sent.map { "viewer: \($0)\n" }.joined().write(toFile: messages, atomically: true, encoding: .utf8)
        // interval=5: frames between inferences carry the same 300 boxes (the cost stays low).
        let written = try gstLaunch([
            "videotestsrc", "pattern=smpte", "num-buffers=60", "!",
            "video/x-raw,format=I420,width=640,height=360,framerate=30/1", "!",
            "swiftyolo", "model=\(model)", "labels=\(labels)", "conf-threshold=0.001", "max-detections=300", "interval=5", "!",
            "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "h264parse", "!",
            "chatinject", "messages-file=\(messages)", "from-start=true", "!", "matroskamux", "!", "filesink", "location=\(clip)"])
        XCTAssertEqual(written.status, 0, written.stderr)

        let read = try gstLaunch(["filesrc", "location=\(clip)", "!", "matroskademux", "!", "h264parse", "!", "chatparse", "!",
                                  "chatsink"])
        XCTAssertEqual(read.status, 0, read.stderr)
        let lines = jsonObjects(read.stdout)
        let chat = lines.filter { $0["type"] as? String == "chat" }
        XCTAssertEqual(chat.compactMap { $0["text"] as? String }, sent, "every line, in order")
        let frame = { (line: [String: Any]) -> Int in ((line["pts"] as? Int) ?? Int.max) / 33_333_333 }
        for (k, line) in chat.enumerated() {
            XCTAssertLessThanOrEqual(frame(line), k, "line \(k + 1) arrives within \(k + 1) frames")
        }
        let boxes = lines.filter { $0["type"] as? String == "detections" }
        // 4 KiB holds about 40 of the 300 boxes: the best scores, as many as fit.
        XCTAssertGreaterThanOrEqual(boxes.filter { (($0["objects"] as? [Any])?.count ?? 0) >= 30 }.count, 30,
                                    "frames without chat fill the envelope with boxes: \(boxes.map { ($0["objects"] as? [Any])?.count ?? 0 })")
        // Frames with chat keep a share of boxes: detections were trimmed by score, not dropped.
        let chatFrames = Set(chat.map(frame))
        for f in chatFrames {
            let objects = boxes.first { frame($0) == f }?["objects"] as? [Any] ?? []
            XCTAssertGreaterThanOrEqual(objects.count, 15, "frame \(f) keeps boxes beside its chat")
        }
    }
}
