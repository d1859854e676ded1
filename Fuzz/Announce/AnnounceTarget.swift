import CGstRTSPGlue

/// libFuzzer entry for what a publisher's ANNOUNCE body becomes: the SDP's tracks as
/// cgst_sdp_tracks reads them (GStreamer's SDP parser and caps, as the ANNOUNCE hook calls
/// it), turned into TrackPlan.Offered as RTSPServer.offeredTracks does, then TrackPlan.make
/// and the pipelines of an accepted plan (TrackPlan*.swift compiled into this module).
///
/// Beyond "no crash": each track's strings end inside their fields; a plan is accepted
/// exactly when a byte-level reading of the tracks (ASCII case-insensitive names, RFC 4566)
/// accepts them, with at most one video track at 90 kHz; a refusal is 400 or 415 with a
/// reason that is one short line of printable ASCII (it becomes the RTSP status line).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnnounce(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var tracks = [CGstSDPTrack](repeating: CGstSDPTrack(), count: 16)
    let count = Int(cgst_sdp_tracks(data, guint(size), &tracks, Int32(tracks.count)))
    guard count >= 0 else { return 0 }
    // RTSPServer.offeredTracks: more sections than fit are refused as unnamed tracks.
    let offered: [TrackPlan.Offered]
    if count > tracks.count {
        offered = Array(repeating: TrackPlan.Offered(media: "", encoding: "", clockRate: 0), count: count)
    } else {
        offered = tracks.prefix(count).map { track in
            var track = track
            let media = withUnsafeBytes(of: &track.media) { field -> String in
                check(field.contains(0), "media not terminated")
                return String(cString: field.bindMemory(to: CChar.self).baseAddress!)
            }
            let encoding = withUnsafeBytes(of: &track.encoding) { field -> String in
                check(field.contains(0), "encoding not terminated")
                return String(cString: field.bindMemory(to: CChar.self).baseAddress!)
            }
            return TrackPlan.Offered(media: media, encoding: encoding, clockRate: Int(track.clock_rate))
        }
    }
    let expected = ReferencePlan.codecs(offered)
    switch TrackPlan.make(offered: offered) {
    case let .success(plan):
        check(plan.codecs == expected, "\(offered) planned as \(plan.codecs), bytes say \(String(describing: expected))")
        check(plan.recordLaunch.hasPrefix("( ") && plan.playLaunch.hasPrefix("( "), "launch lines")
        _ = plan.recordingLaunch(segmentNanoseconds: 1_000_000_000, segmentBytes: 0)
        for payload in [0, 96, 127] { _ = plan.webrtcLaunch(videoPayload: payload, audioPayload: payload, stunServer: nil) }
    case let .failure(refusal):
        check(expected == nil, "\(offered) refused (\(refusal.reason)), bytes say \(expected!)")
        check(refusal.status == (offered.isEmpty ? 400 : 415), "status \(refusal.status) for \(offered)")
        check(refusal.reason.utf8.count <= 300 && refusal.reason.utf8.allSatisfy { (0x20...0x7E).contains($0) },
              "reason \(refusal.reason.debugDescription) is not one printable ASCII line")
    }
    return 0
}

/// TrackPlan.make's rules read on bytes: encoding names compared ASCII case-insensitively.
enum ReferencePlan {
    static let names: [(media: String, encoding: String, codec: TrackPlan.Codec)] = [
        ("video", "H264", .h264), ("video", "H265", .h265), ("audio", "MPEG4-GENERIC", .aac), ("audio", "MP4A-LATM", .aacLATM),
        ("audio", "OPUS", .opus), ("audio", "PCMA", .pcma), ("audio", "PCMU", .pcmu),
    ]

    static func codecs(_ offered: [TrackPlan.Offered]) -> [TrackPlan.Codec]? {
        guard !offered.isEmpty else { return nil }
        var codecs: [TrackPlan.Codec] = []
        for track in offered {
            guard let codec = names.first(where: { asciiEqual($0.media, track.media) && asciiEqual($0.encoding, track.encoding) })?.codec,
                  codec.isVideo ? track.clockRate == 90000 : track.clockRate > 0 else { return nil }
            codecs.append(codec)
        }
        return codecs.filter(\.isVideo).count <= 1 ? codecs : nil
    }

    static func asciiEqual(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }

    static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 0x20 : byte }
}
