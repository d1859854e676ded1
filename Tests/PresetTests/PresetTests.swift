import ChatCastPresets
import Foundation
import XCTest

final class PresetTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pipelines").path

    func testTheShippedPresetsLoad() throws {
        let presets = try PresetLibrary.load(directory: Self.directory)
        XCTAssertEqual(Set(presets.map(\.name)),
                       ["publish-test", "publish-camera", "publish-file", "relay-detect", "play", "play-headless", "play-snapshot", "record"])
        for p in presets {
            let line = try p.commandLine()
            XCTAssertTrue(line.hasPrefix("gst-launch-1.0 -e "), line)
            XCTAssertFalse(line.contains("${"), "\(p.name) left a placeholder: \(line)")
        }
    }

    func testSetReplacesDefaultsAndQuotesForTheShell() throws {
        let play = try PresetLibrary.load(file: Self.directory + "/play-headless.yaml")
        XCTAssertEqual(try play.commandLine(setting: ["url": "rtsp://10.0.0.2:8554/stage"]),
                       "gst-launch-1.0 -e rtspsrc name=src location=rtsp://10.0.0.2:8554/stage latency=200 ! application/x-rtp,media=video ! parsebin "
                           + "! capsfilter 'caps=\"video/x-h264,alignment=au;video/x-h265,alignment=au\"' "
                           + "! chatparse post-messages=false ! chatsink src. ! application/x-rtp,media=audio ! fakesink async=false sync=false")
        let record = try PresetLibrary.load(file: Self.directory + "/record.yaml")
        let line = try record.commandLine(setting: ["output": "my clip's copy.mkv"])
        XCTAssertTrue(line.contains(#" 'location="my clip'\''s copy.mkv"' "#), line)
        XCTAssertThrowsError(try record.commandLine(setting: ["outptu": "x"])) { error in
            XCTAssertTrue("\(error)".contains("record.yaml: preset record has no placeholder \"outptu\""), "\(error)")
        }
    }

    /// A sound branch is printed with the pipeline; it is left out while a placeholder only it
    /// uses is empty (the camera without `audio-device`).
    func testTheSoundBranchNeedsItsOwnValues() throws {
        let camera = try PresetLibrary.load(file: Self.directory + "/publish-camera.yaml")
        XCTAssertNil(try camera.audioDescription())
        XCTAssertFalse(try camera.commandLine().contains("alsasrc"))
        let mic = try XCTUnwrap(try camera.audioDescription(setting: ["audio-device": "hw:1"]))
        XCTAssertTrue(mic.hasPrefix("alsasrc device=hw:1 ! "), mic)
        XCTAssertTrue(mic.hasSuffix("! opusenc bitrate=96000 ! out."), mic)
        XCTAssertTrue(try camera.commandLine(setting: ["audio-device": "hw:1"]).contains(" rtspclientsink name=out "))
        let file = try PresetLibrary.load(file: Self.directory + "/publish-file.yaml")
        XCTAssertEqual(try file.audioDescription(setting: ["audio-bitrate": "64000"]),
                       "in. ! audio/x-raw ! queue ! audioconvert ! audioresample ! opusenc bitrate=64000 ! out.")
        let bad = "name: x\nkind: publish\npipeline: fakesrc ! fakesink name=out\naudio: audiotestsrc wave=${w} ! out.\ndefaults:\n  n: 1\n"
        XCTAssertThrowsError(try PresetLibrary.parse(bad, file: "bad.yaml")) { error in
            XCTAssertEqual("\(error)", "bad.yaml:4: placeholder ${w} has no default (known: n)")
        }
    }

    func testMistakesAreRefusedWithFileLineAndName() {
        func error(_ yaml: String) -> String {
            do {
                _ = try PresetLibrary.parse(yaml, file: "bad.yaml")
                return "accepted"
            } catch { return "\(error)" }
        }
        let good = "name: x\nkind: play\npipeline: fakesrc num-buffers=${n} ! fakesink\ndefaults:\n  n: 3\n"
        XCTAssertEqual(error(good), "accepted")
        XCTAssertEqual(error(good.replacingOccurrences(of: "${n}", with: "${nn}")),
                       "bad.yaml:3: placeholder ${nn} has no default (known: n)")
        XCTAssertTrue(error(good + "descripton: typo\n").hasPrefix("bad.yaml:6: unknown key \"descripton\""))
        XCTAssertTrue(error(good.replacingOccurrences(of: "kind: play", with: "kind: stream")).hasPrefix("bad.yaml:2: kind \"stream\""))
        XCTAssertEqual(error(good + "  unused: 1\n"), "bad.yaml:6: default \"unused\" is used by no placeholder")
        XCTAssertTrue(error("name: [unclosed\n").hasPrefix("bad.yaml:"), error("name: [unclosed\n"))
        XCTAssertEqual(error("kind: play\npipeline: x\n"), "bad.yaml: missing \"name\"")
    }
}
