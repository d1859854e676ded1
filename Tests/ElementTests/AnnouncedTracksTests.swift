import CGStreamer
import CGstRTSPGlue
import ChatCastRTSP
import XCTest

/// An ANNOUNCE body's tracks as the server reads them (cgst_sdp_tracks) and plans them: codec
/// names compare in ASCII, as RFC 4566 says. Unicode upper-cases "opuſ" to OPUS and
/// "mpeg4-generıc" to MPEG4-GENERIC, which took a track the depayloader would refuse and put
/// a non-ASCII reason in the status line (the fuzz target's input,
/// Fuzz/corpus/announce/regression-unicode-case).
final class AnnouncedTracksTests: XCTestCase {
    static let body = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"
        + "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 opu\u{17F}/48000/2\r\n"
        + "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-gener\u{131}c/0\r\n"

    func testCodecNamesCompareInASCII() {
        _ = GStreamerOnce.ready
        var tracks = [CGstSDPTrack](repeating: CGstSDPTrack(), count: 16)
        let bytes = Array(Self.body.utf8)
        XCTAssertEqual(cgst_sdp_tracks(bytes, guint(bytes.count), &tracks, 16), 2)
        let offered = tracks.prefix(2).map { track in
            var track = track
            return TrackPlan.Offered(media: withUnsafeBytes(of: &track.media) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) },
                                     encoding: withUnsafeBytes(of: &track.encoding) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) },
                                     clockRate: Int(track.clock_rate))
        }
        XCTAssertEqual(offered.map(\.encoding), ["OPU\u{17F}", "MPEG4-GENER\u{131}C"], "GStreamer upper-cases ASCII only")
        guard case let .failure(refusal) = TrackPlan.make(offered: offered) else { return XCTFail("\(offered) accepted") }
        XCTAssertEqual(refusal.status, 415)
        XCTAssertTrue(refusal.reason.contains("track 0 is audio OPU?/48000"), refusal.reason)
        XCTAssertTrue(refusal.reason.utf8.allSatisfy { (0x20...0x7E).contains($0) }, refusal.reason)
        guard case .failure = TrackPlan.make(offered: [offered[1]]) else { return XCTFail("MPEG4-GENERıC accepted") }
        XCTAssertEqual(try TrackPlan.make(offered: [.init(media: "Audio", encoding: "opus", clockRate: 48000)]).get().codecs, [.opus])
    }
}
