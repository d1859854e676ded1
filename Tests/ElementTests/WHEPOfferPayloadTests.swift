import CGStreamer
import CGstWebRTCGlue
import XCTest

/// What the WebRTC glue reads of a browser's WHEP offer (and of webrtcbin's answer), with the
/// inputs the fuzzer found (Fuzz/corpus/whep-offer/regression-*).
final class WHEPOfferPayloadTests: XCTestCase {
    /// Payload types are RTP's, 0…127 in digits, or none: `atoi` once made "909" one and
    /// "96abc" 96.
    func testOnlyRTPPayloadTypesAreRead() {
        _ = GStreamerOnce.ready
        XCTAssertEqual(cgst_sdp_first_payload("v=0\nm=o 9 A 909", 0), -1, "the fuzzer's input")
        let head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        let video = head + "m=video 9 UDP/TLS/RTP/SAVPF 1000 96abc 102\r\n"
            + "a=rtpmap:1000 H264/90000\r\na=fmtp:1000 packetization-mode=1\r\n"
            + "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"
            + "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n"
        XCTAssertEqual(cgst_sdp_first_payload(video, 0), -1)
        XCTAssertEqual(cgst_webrtc_offer_payload(video, 0, "H264"), 102, "the first format that is a payload type")
        let audio = head + "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\n"
        XCTAssertEqual(cgst_sdp_first_payload(audio, 0), 111)
        XCTAssertEqual(cgst_webrtc_offer_payload(audio, 0, "OPUS"), 111)
        XCTAssertEqual(cgst_sdp_first_payload(audio, 1), -1, "no such section")
    }

    /// Text GStreamer will not parse (an empty body, as a C string: the fuzzer's input was a
    /// NUL) is no SDP, and its message is freed (it leaked 184 bytes a time).
    func testTextThatIsNotSDPIsRefused() {
        _ = GStreamerOnce.ready
        XCTAssertEqual(cgst_sdp_first_payload("", 0), -1)
        XCTAssertEqual(cgst_webrtc_offer_payload("", 0, "H264"), -1)
        var kinds = [CChar](repeating: 0, count: 4)
        XCTAssertEqual(cgst_webrtc_offer_kinds("", &kinds, 4), -1)
    }
}
