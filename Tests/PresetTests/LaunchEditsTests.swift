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
}
