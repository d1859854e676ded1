import ChatCastPresets
import XCTest

/// The edits `chatcast publish` makes to a preset's description keep quoted values whole.
final class LaunchEditsTests: XCTestCase {
    let line = #"videotestsrc ! swiftyolo conf-threshold=0.25 ! x264enc ! chatinject room=lobby ! rtspclientsink location="rtsp://h:1/a b""#

    func testRemovingAStageDropsItsElementPropertiesAndLink() {
        XCTAssertEqual(LaunchEdits.removing("swiftyolo", from: line),
                       #"videotestsrc ! x264enc ! chatinject room=lobby ! rtspclientsink location="rtsp://h:1/a b""#)
        XCTAssertEqual(LaunchEdits.removing("absent", from: line), line)
    }

    func testSettingAPropertyQuotesValuesGstLaunchWouldSplit() {
        XCTAssertEqual(LaunchEdits.setting("model", "/models/my net.pt", on: "swiftyolo", in: line),
                       #"videotestsrc ! swiftyolo conf-threshold=0.25 model="/models/my net.pt" ! x264enc ! chatinject room=lobby ! rtspclientsink location="rtsp://h:1/a b""#)
    }

    func testReplacingTheLastStage() {
        XCTAssertEqual(LaunchEdits.replacingLast(in: line, with: "rtph264pay name=pay0 pt=96"),
                       "videotestsrc ! swiftyolo conf-threshold=0.25 ! x264enc ! chatinject room=lobby ! rtph264pay name=pay0 pt=96")
    }

    /// What `chatcast play` does with a play preset: the source apart from the branch, a file
    /// in place of the network source, and a sound branch's encoder found from its end.
    func testCuttingAtAStageAndReplacingWhatComesBefore() {
        let play = #"rtspsrc location="rtsp://h/a b" ! application/x-rtp,media=video ! parsebin ! capsfilter caps="video/x-h264;video/x-h265" ! chatparse ! chatsink"#
        let parts = LaunchEdits.cut(after: "capsfilter", in: play)
        XCTAssertEqual(parts?.head, #"rtspsrc location="rtsp://h/a b" ! application/x-rtp,media=video ! parsebin ! capsfilter caps="video/x-h264;video/x-h265""#)
        XCTAssertEqual(parts?.tail, "chatparse ! chatsink")
        XCTAssertNil(LaunchEdits.cut(after: "tee", in: play))
        XCTAssertEqual(LaunchEdits.replacing(before: "parsebin", in: parts!.head, with: #"filesrc location="my clip.mkv""#),
                       #"filesrc location="my clip.mkv" ! parsebin ! capsfilter caps="video/x-h264;video/x-h265""#)
        XCTAssertEqual(LaunchEdits.lastFactories(in: "in. ! queue ! opusenc bitrate=1 ! out."), ["out.", "opusenc", "queue", "in."])
    }
}
