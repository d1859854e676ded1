import ChatCastRTSP
import XCTest

/// A viewer's PLAY media: every buffer shifted by the same amount (B-frame order and the
/// audio/video distance kept), video starting, and starting again after a pause, at a key
/// frame that follows everything already sent.
final class PlayGateTests: XCTestCase {
    private let ms: UInt = 1_000_000

    func testStartsAtAKeyFrameKeepsBFrameOrderAndShiftsAudioAlike() {
        let gate = PlayGate()
        let base = 1_000_000 * ms
        XCTAssertNil(gate.video(pts: base + 10 * ms, dts: PlayGate.none, isKey: false, base: base), "no references yet")
        XCTAssertFalse(gate.isOpen)
        let key = gate.video(pts: base + 100 * ms, dts: base + 33 * ms, isKey: true, base: base)
        XCTAssertEqual(key?.pts, 100 * ms)
        XCTAssertEqual(key?.dts, 33 * ms)
        XCTAssertEqual(gate.video(pts: base + 166 * ms, dts: PlayGate.none, isKey: false, base: base)?.pts, 166 * ms)
        let bFrame = gate.video(pts: base + 133 * ms, dts: PlayGate.none, isKey: false, base: base)
        XCTAssertEqual(bFrame?.pts, 133 * ms, "a B-frame keeps its earlier display time")
        XCTAssertEqual(bFrame?.dts, PlayGate.none)
        XCTAssertEqual(gate.audio(pts: base + 21 * ms, dts: PlayGate.none, base: base)?.pts, 21 * ms, "audio shifted like video")
        XCTAssertNil(gate.audio(pts: base + 21 * ms, dts: PlayGate.none, base: base), "never a repeated time")
        XCTAssertNil(gate.audio(pts: base - 1, dts: PlayGate.none, base: base), "before the media's time began")
    }

    func testAfterAPauseVideoResumesAtANewerKeyFrameOnly() {
        let gate = PlayGate()
        XCTAssertNotNil(gate.video(pts: 1_000 * ms, dts: PlayGate.none, isKey: true, base: 0))
        XCTAssertNotNil(gate.video(pts: 1_300 * ms, dts: PlayGate.none, isKey: false, base: 0))
        gate.restart()
        XCTAssertNil(gate.video(pts: 1_333 * ms, dts: PlayGate.none, isKey: false, base: 0), "stale frames queued during the pause")
        XCTAssertNil(gate.video(pts: 1_000 * ms, dts: PlayGate.none, isKey: true, base: 0), "the cached key frame was sent already")
        XCTAssertNil(gate.video(pts: 1_400 * ms, dts: PlayGate.none, isKey: false, base: 0))
        XCTAssertEqual(gate.video(pts: 1_667 * ms, dts: PlayGate.none, isKey: true, base: 0)?.pts, 1_667 * ms)
        XCTAssertTrue(gate.isOpen)
    }

    func testAFrameThatCannotBeTimedClosesTheGateUntilTheNextKeyFrame() {
        let gate = PlayGate()
        let base = 5_000 * ms
        XCTAssertNotNil(gate.video(pts: base + 10 * ms, dts: PlayGate.none, isKey: true, base: base))
        XCTAssertNil(gate.video(pts: base - 1, dts: PlayGate.none, isKey: false, base: base))
        XCTAssertNil(gate.video(pts: base + 50 * ms, dts: PlayGate.none, isKey: false, base: base))
        XCTAssertNotNil(gate.video(pts: base + 90 * ms, dts: PlayGate.none, isKey: true, base: base))
    }
}

/// What a publisher's ANNOUNCE may offer: the codecs ffmpeg, OBS and cameras send are taken
/// (depayloaders and payloaders in SDP order); anything else is refused naming the codec.
final class TrackPlanTests: XCTestCase {
    private func offered(_ tracks: (String, String, Int)...) -> [TrackPlan.Offered] {
        tracks.map { TrackPlan.Offered(media: $0.0, encoding: $0.1, clockRate: $0.2) }
    }

    func testCommonPublishersArePlannedTrackByTrack() throws {
        let plan = try TrackPlan.make(offered: offered(("video", "H264", 90000), ("audio", "MPEG4-GENERIC", 44100))).get()
        XCTAssertEqual(plan.codecs, [.h264, .aac])
        XCTAssertEqual(plan.videoTrack, 0)
        XCTAssertTrue(plan.recordLaunch.contains("rtph264depay name=depay0 ! h264parse config-interval=-1"))
        XCTAssertTrue(plan.recordLaunch.contains("rtpmp4gdepay name=depay1 ! aacparse ! appsink name=track1"))
        XCTAssertTrue(plan.playLaunch.contains("appsrc name=src1"))
        XCTAssertTrue(plan.playLaunch.contains("rtpmp4gpay name=pay1"))
        let others = try TrackPlan.make(offered: offered(("audio", "opus", 48000), ("video", "h265", 90000), ("audio", "PCMA", 8000),
                                                          ("audio", "PCMU", 8000), ("audio", "MP4A-LATM", 44100))).get()
        XCTAssertEqual(others.codecs, [.opus, .h265, .pcma, .pcmu, .aacLATM])
        XCTAssertEqual(others.videoTrack, 1)
        XCTAssertTrue(others.playLaunch.contains("rtph265pay name=pay1"))
        XCTAssertEqual(try TrackPlan.make(offered: offered(("audio", "PCMU", 8000))).get().videoTrack, nil)
    }

    func testOtherCodecsAreRefusedNamingTheCodecAndWhatIsTaken() {
        for (tracks, named) in [(offered(("video", "JPEG", 90000)), "video JPEG/90000"),
                                (offered(("video", "H264", 90000), ("video", "VP8", 90000)), "track 1 is video VP8/90000"),
                                (offered(("application", "", 0)), "an unnamed payload"),
                                (offered(("video", "H264\u{7}<b>", 90000)), "video H264?<b>/90000")] {
            guard case let .failure(refusal) = TrackPlan.make(offered: tracks) else { return XCTFail("\(tracks) accepted") }
            XCTAssertEqual(refusal.status, 415)
            XCTAssertTrue(refusal.reason.contains(named), refusal.reason)
            XCTAssertTrue(refusal.reason.contains("H264 or H265"), refusal.reason)
            XCTAssertTrue(refusal.reason.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 }, refusal.reason)
        }
        guard case let .failure(two) = TrackPlan.make(offered: offered(("video", "H264", 90000), ("video", "H265", 90000))) else {
            return XCTFail("two video tracks accepted")
        }
        XCTAssertTrue(two.reason.contains("more than one video track"))
        for (tracks, said) in [(offered(("video", "H264", 0)), "video H264/0; video runs at 90000 Hz"),
                               (offered(("video", "H265", 1000)), "video H265/1000; video runs at 90000 Hz"),
                               (offered(("video", "H264", 90000), ("audio", "OPUS", 0)), "track 1 is audio OPUS/0; a clock rate is needed")] {
            guard case let .failure(refusal) = TrackPlan.make(offered: tracks) else { return XCTFail("\(tracks) accepted") }
            XCTAssertEqual(refusal.status, 415)
            XCTAssertTrue(refusal.reason.contains(said), refusal.reason)
        }
        guard case let .failure(empty) = TrackPlan.make(offered: []) else { return XCTFail("no media accepted") }
        XCTAssertEqual(empty.status, 400)
    }
}
