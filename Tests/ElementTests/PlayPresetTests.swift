import Foundation
import ProcessSupport
import XCTest

/// `chatcast play` builds its pipeline from the play presets: an edit to `play-headless.yaml`
/// in the preset directory changes what it runs, and `--record` takes the `record` preset's
/// branch beside it.
final class PlayPresetTests: XCTestCase {
    func testPlayRunsTheEditedPresetsFromTheGivenDirectory() throws {
        let dir = NSTemporaryDirectory() + "chatcast-play-presets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in try FileManager.default.contentsOfDirectory(atPath: Paths.presets) {
            try FileManager.default.copyItem(atPath: Paths.presets + "/" + name, toPath: dir + "/" + name)
        }
        let lines = dir + "/lines.jsonl"
        let headless = dir + "/play-headless.yaml"
        let shipped = try String(contentsOfFile: headless, encoding: .utf8)
        XCTAssertTrue(shipped.contains("! chatsink\n"), shipped)
        try shipped.replacingOccurrences(of: "! chatsink\n", with: "! chatsink location=\(lines)\n").write(toFile: headless, atomically: true, encoding: .utf8)

        let clip = dir + "/detected.mkv"
        let made = try gstLaunch(["-q", "videotestsrc", "pattern=ball", "num-buffers=30", "!", "video/x-raw,width=320,height=240,framerate=30/1",
                                  "!", "swiftyolo", "!", "videoconvert", "!", "x264enc", "speed-preset=ultrafast", "!", "h264parse", "!",
                                  "chatinject", "!", "matroskamux", "!", "filesink", "location=\(clip)"], timeout: 120)
        XCTAssertEqual(made.status, 0, made.stderr)

        let copy = dir + "/copy.mkv"
        let play = try runToEnd(chatcastProcess(["play", clip, "--headless", "--dir", dir, "--record", copy]), timeout: 60)
        XCTAssertEqual(play.status, 0, play.stderr)
        XCTAssertEqual(play.stdout, "", "the edited preset writes its lines to a file, not stdout")
        let written = jsonObjects((try? String(contentsOfFile: lines, encoding: .utf8)) ?? "")
        XCTAssertEqual(written.filter { $0["type"] as? String == "detections" }.count, 30, play.stderr)
        let replay = try runToEnd(chatcastProcess(["play", copy, "--headless"]), timeout: 60)
        XCTAssertEqual(jsonObjects(replay.stdout).filter { $0["type"] as? String == "detections" }.count, 30, replay.stderr)
    }
}
