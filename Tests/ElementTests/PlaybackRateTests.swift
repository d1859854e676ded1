import ChatCastRTSP
import XCTest

/// Scale/Speed values that abort Debian's gst-rtsp-server 1.22.0 (CVE-2024-44331) are
/// judged before the media sees them; a live stream plays at 1.
final class PlaybackRateTests: XCTestCase {
    func testEveryHostileValueIsRefusedAndOneIsAccepted() {
        for bad in ["nan", "NaN", "-1", "0", "-0", "inf", "-inf", "infinity", "abc", "", "1,5", "0x", "1e999"] {
            guard case .malformed = PlaybackRate.judge(scale: bad, speed: nil) else { return XCTFail("Scale: \(bad)") }
            guard case .malformed = PlaybackRate.judge(scale: nil, speed: bad) else { return XCTFail("Speed: \(bad)") }
        }
        for unsupported in ["1e308", "2", "0.5", "4.0", "1e-300"] {
            guard case .unsupported = PlaybackRate.judge(scale: unsupported, speed: nil) else { return XCTFail(unsupported) }
        }
        XCTAssertEqual(PlaybackRate.judge(scale: nil, speed: nil), .accepted)
        XCTAssertEqual(PlaybackRate.judge(scale: " 1.0 ", speed: "1"), .accepted)
    }
}
