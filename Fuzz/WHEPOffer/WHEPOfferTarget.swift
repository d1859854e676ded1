import CGstWebRTCGlue

/// libFuzzer entry for a browser's WHEP offer on its way to a viewer's pipeline, as
/// WebRTCViewer.answer reads it before webrtcbin sees it: the kinds of its m= sections
/// (cgst_webrtc_offer_kinds), the payload types it gives H.264 and Opus
/// (cgst_webrtc_offer_payload), then TrackPlan.webrtcLaunch for a room's plan (TrackPlan*.swift
/// compiled into this module); and cgst_sdp_first_payload, which reads the answer. The first
/// byte picks the room's tracks; the rest is the body, as WebRoutes hands it on (UTF-8,
/// repaired) and C reads it (up to a NUL).
///
/// Beyond "no crash": kinds are v, a, d or o; a payload type is an RTP one (0…127) or -1;
/// a viewer's pipeline is built for an H.264 room only, with the offer's payload types.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWHEPOffer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rooms: [[TrackPlan.Codec]] = [[.h264, .opus], [.h264, .aac], [.h264, .pcmu], [.h264], [.h265, .opus], [.opus, .h264], [.h264, .aacLATM, .opus], [.pcma, .h264]]
    let plan = TrackPlan(codecs: rooms[Int(data[0]) % rooms.count])
    let offer = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)

    var kinds = [CChar](repeating: 0, count: 16)
    let sections = Int(cgst_webrtc_offer_kinds(offer, &kinds, 16))
    check(sections >= -1, "\(sections) sections")
    for index in 0..<max(0, min(sections, 16)) {
        check("vado".utf8.contains(UInt8(bitPattern: kinds[index])), "kind \(kinds[index]) of section \(index)")
        checkPayload(cgst_sdp_first_payload(offer, guint(index)), "first payload of section \(index)", offer)
    }
    checkPayload(cgst_sdp_first_payload(offer, 1 << 20), "first payload of a section past the end", offer)
    guard sections > 0 else { return 0 }
    let kindList = kinds.prefix(min(sections, 16)).map { UInt8(bitPattern: $0) }
    guard let videoSection = kindList.firstIndex(of: UInt8(ascii: "v")) else { return 0 }
    let videoPayload = cgst_webrtc_offer_payload(offer, guint(videoSection), "H264")
    checkPayload(videoPayload, "H.264 payload", offer)
    guard videoPayload >= 0 else { return 0 }
    let audioPayload = kindList.firstIndex(of: UInt8(ascii: "a")).map { Int(cgst_webrtc_offer_payload(offer, guint($0), "OPUS")) }
    if let audioPayload { checkPayload(Int32(audioPayload), "Opus payload", offer) }
    let sound = audioPayload.flatMap { $0 >= 0 ? $0 : nil }
    switch plan.webrtcLaunch(videoPayload: Int(videoPayload), audioPayload: sound, stunServer: "stun://stun.example.org:3478") {
    case let .success(launch):
        check(plan.codecs[plan.videoTrack!] == .h264, "a pipeline for \(plan.codecs)")
        check(launch.contains("pt=\(videoPayload)") && !launch.contains("\n"), "launch \(launch)")
        if let sound, plan.webrtcTracks.audio != nil { check(launch.contains("rtpopuspay name=pay\(plan.webrtcTracks.audio!) pt=\(sound)"), "launch \(launch)") }
    case .failure:
        check(plan.videoTrack.map { plan.codecs[$0] } != .h264, "no pipeline for \(plan.codecs)")
    }
    return 0
}

func checkPayload(_ payload: Int32, _ what: String, _ offer: String) {
    check(payload == -1 || (0...127).contains(payload), "\(what) is \(payload) in \(String(offer.unicodeScalars.prefix(400)).debugDescription)")
}
