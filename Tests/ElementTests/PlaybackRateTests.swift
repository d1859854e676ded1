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

/// A PLAY media's timestamps: the cached GOP (captured before the media started) and the
/// live access units after it come out strictly increasing, from zero.
final class RetimeClockTests: XCTestCase {
    func testCachedFramesBeforeTheStartAreSpreadAndLiveOnesKeepTheirTimes() {
        let clock = RetimeClock()
        let ms: UInt = 1_000_000, base: UInt = 10_000 * ms
        func run(_ at: UInt, dts: UInt? = nil) -> (UInt, UInt) { clock.running(pts: at, dts: dts ?? at, base: base) }
        // Five cached frames 33 ms apart, all before the base time, then live ones after it.
        var cached: [(UInt, UInt)] = []
        for i: UInt in 0..<5 { cached.append(run(base - 200 * ms + i * 33 * ms)) }
        XCTAssertEqual(cached.map { $0.0 }, [0, ms, 2 * ms, 3 * ms, 4 * ms], "strictly increasing from zero")
        XCTAssertEqual(cached.map { $0.1 }, cached.map { $0.0 }, "DTS follows PTS")
        XCTAssertEqual(run(base + 2 * ms).0, 5 * ms, "no step backwards")
        XCTAssertEqual(run(base + 35 * ms).0, 35 * ms, "live frames keep their spacing")
        XCTAssertEqual(run(base + 68 * ms, dts: RetimeClock.none).0, 68 * ms)
        XCTAssertEqual(run(RetimeClock.none).0, RetimeClock.none)
        // The media prepared again: a new base time starts a new run.
        XCTAssertEqual(clock.running(pts: 20_000 * ms, dts: 20_000 * ms, base: 20_000 * ms).0, 0)
    }
}
