/// What a browser gets of a room: the H.264 video as published (payloaded once more, never
/// re-encoded) and the first sound track as Opus, decoded and encoded again only when it is
/// not Opus already (browsers take no AAC over WebRTC).
extension TrackPlan {
    public enum WebRTCRefusal: Error, Equatable, Sendable {
        case videoNotH264(Codec?)
    }

    /// The tracks a WebRTC viewer is sent: the video track and the first sound track.
    public var webrtcTracks: (video: Int?, audio: Int?) {
        (videoTrack, codecs.firstIndex { !$0.isVideo })
    }

    /// A browser viewer's pipeline, without the webrtcbin's links: appsrc `srcN` → … →
    /// payloader `payN` for the tracks named, and `webrtcbin name=webrtc`.
    /// Payload types are the offer's own (`videoPayload`, `audioPayload`: nil sends no sound).
    public func webrtcLaunch(videoPayload: Int, audioPayload: Int?, stunServer: String?) -> Result<String, WebRTCRefusal> {
        guard let video = videoTrack, codecs[video] == .h264 else { return .failure(.videoNotH264(videoTrack.map { codecs[$0] })) }
        var parts = ["webrtcbin name=webrtc bundle-policy=max-bundle" + (stunServer.map { " stun-server=\"\($0)\"" } ?? "")]
        // The parameter sets already lead every key frame (parsed on the RECORD side), before
        // our SEI: the payloader adds none of its own.
        parts.append("appsrc name=src\(video) is-live=true format=time max-bytes=4000000 "
                     + "! rtph264pay name=pay\(video) aggregate-mode=zero-latency config-interval=0 pt=\(videoPayload)")
        if let audioPayload, let track = webrtcTracks.audio {
            let source = "appsrc name=src\(track) is-live=true format=time max-bytes=1000000"
            let toOpus = "audioconvert ! audioresample ! opusenc ! rtpopuspay name=pay\(track) pt=\(audioPayload)"
            switch codecs[track] {
            case .opus: parts.append("\(source) ! rtpopuspay name=pay\(track) pt=\(audioPayload)")
            case .aac: parts.append("\(source) ! aacparse ! avdec_aac ! \(toOpus)")
            case .aacLATM: parts.append("\(source) ! aacparse ! avdec_aac ! \(toOpus)")
            case .pcma: parts.append("\(source) ! alawdec ! \(toOpus)")
            case .pcmu: parts.append("\(source) ! mulawdec ! \(toOpus)")
            case .h264, .h265: break
            }
        }
        return .success(parts.joined(separator: "  "))
    }
}
