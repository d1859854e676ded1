/// What a publisher's ANNOUNCE offers, track by track, turned into the pipelines that take
/// it in (RECORD) and re-serve it (PLAY), or refused with a reason that names the codec.
/// Publishers are whatever people run: ffmpeg and OBS put the parameter sets only in the
/// SDP, use B-frames and add sound, so every video track gets its parameter sets in band
/// before each key frame on the way in, and audio travels beside it.
public struct TrackPlan: Equatable, Sendable {
    public enum Codec: String, Sendable, CaseIterable {
        case h264 = "H264", h265 = "H265", aac = "AAC", aacLATM = "AAC (LATM)", opus = "Opus", pcma = "PCMA", pcmu = "PCMU"

        public var isVideo: Bool { self == .h264 || self == .h265 }

        /// From an SDP rtpmap encoding name (case-insensitive, as RFC 4566 says: in ASCII, so
        /// "opuſ" is not OPUS although Unicode upper-cases it so).
        init?(media: String, encoding: String) {
            let media = String(decoding: media.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
            let encoding = String(decoding: encoding.utf8.map { (0x61...0x7A).contains($0) ? $0 & ~0x20 : $0 }, as: UTF8.self)
            switch (media, encoding) {
            case ("video", "H264"): self = .h264
            case ("video", "H265"): self = .h265
            case ("audio", "MPEG4-GENERIC"): self = .aac
            case ("audio", "MP4A-LATM"): self = .aacLATM
            case ("audio", "OPUS"): self = .opus
            case ("audio", "PCMA"): self = .pcma
            case ("audio", "PCMU"): self = .pcmu
            default: return nil
            }
        }
    }

    /// One m= section of the SDP.
    public struct Offered: Equatable, Sendable {
        public var media: String
        public var encoding: String
        public var clockRate: Int
        public init(media: String, encoding: String, clockRate: Int) {
            self.media = media
            self.encoding = encoding
            self.clockRate = clockRate
        }
    }

    public static let supported = "video H264 or H265 (at most one video track) and audio AAC, Opus, PCMA or PCMU"

    public let codecs: [Codec]

    public init(codecs: [Codec]) { self.codecs = codecs }

    /// The plan for `offered`, or a one-line reason (an RTSP reason phrase) for refusing it.
    public static func make(offered: [Offered]) -> Result<TrackPlan, Refusal> {
        guard !offered.isEmpty else { return .failure(Refusal(status: 400, reason: "Bad Request: the SDP has no media")) }
        var codecs: [Codec] = []
        for (index, track) in offered.enumerated() {
            guard let codec = Codec(media: track.media, encoding: track.encoding) else {
                let named = track.encoding.isEmpty ? "an unnamed payload" : track.encoding + (track.clockRate > 0 ? "/\(track.clockRate)" : "")
                return .failure(Refusal(status: 415, reason: "Unsupported Media Type: track \(index) is \(printable(track.media)) "
                                        + "\(printable(named)); this server takes \(supported)"))
            }
            // RTP video runs at 90 kHz (RFC 6184, 7798); a sound track needs some rate.
            guard codec.isVideo ? track.clockRate == 90000 : track.clockRate > 0 else {
                return .failure(Refusal(status: 415, reason: "Unsupported Media Type: track \(index) is \(printable(track.media)) "
                                        + "\(track.encoding)/\(track.clockRate); \(codec.isVideo ? "video runs at 90000 Hz" : "a clock rate is needed")"))
            }
            codecs.append(codec)
        }
        if codecs.filter(\.isVideo).count > 1 {
            return .failure(Refusal(status: 415, reason: "Unsupported Media Type: more than one video track; this server takes \(supported)"))
        }
        return .success(TrackPlan(codecs: codecs))
    }

    public struct Refusal: Error, Equatable, Sendable {
        public let status: Int
        public let reason: String
    }

    /// The track viewers start on (key frames), if there is one.
    public var videoTrack: Int? { codecs.firstIndex(where: \.isVideo) }

    /// The RECORD media: depayloader `depayN` → parser → appsink `trackN`, one branch per
    /// track in SDP order (gst-rtsp-server pairs them by position).
    public var recordLaunch: String {
        let branches = codecs.enumerated().map { index, codec -> String in
            let sink = "appsink name=track\(index) sync=false max-buffers=120"
            switch codec {
            case .h264:
                return "rtph264depay name=depay\(index) ! h264parse config-interval=-1 "
                    + "! video/x-h264,stream-format=byte-stream,alignment=au ! \(sink)"
            case .h265:
                return "rtph265depay name=depay\(index) ! h265parse config-interval=-1 "
                    + "! video/x-h265,stream-format=byte-stream,alignment=au ! \(sink)"
            case .aac: return "rtpmp4gdepay name=depay\(index) ! aacparse ! \(sink)"
            case .aacLATM: return "rtpmp4adepay name=depay\(index) ! aacparse ! \(sink)"
            case .opus: return "rtpopusdepay name=depay\(index) ! \(sink)"
            case .pcma: return "rtppcmadepay name=depay\(index) ! \(sink)"
            case .pcmu: return "rtppcmudepay name=depay\(index) ! \(sink)"
            }
        }
        return "( " + branches.joined(separator: " ") + " )"
    }

    /// A viewer's PLAY media: appsrc `srcN` → payloader `payN`. What arrives was parsed once
    /// on the RECORD side (access units with the parameter sets at the front of every key
    /// frame), so no viewer parses it again; the payloader's own config-interval would put
    /// them after our SEI, between it and the slice, and ffmpeg then splits the frame in two
    /// with one timestamp.
    public var playLaunch: String {
        let branches = codecs.enumerated().map { index, codec -> String in
            let source = "appsrc name=src\(index) is-live=true format=time max-bytes=4000000"
            let pay = "name=pay\(index) pt=\(96 + index)"
            switch codec {
            case .h264: return "\(source) ! rtph264pay \(pay)"
            case .h265: return "\(source) ! rtph265pay \(pay)"
            case .aac, .aacLATM: return "\(source) ! rtpmp4gpay \(pay)"
            case .opus: return "\(source) ! rtpopuspay \(pay)"
            case .pcma: return "\(source) ! rtppcmapay name=pay\(index) pt=8"
            case .pcmu: return "\(source) ! rtppcmupay name=pay\(index) pt=0"
            }
        }
        return "( " + branches.joined(separator: " ") + " )"
    }

    /// A room's recording: appsrc `srcN` → parser → a Matroska file split every
    /// `segmentNanoseconds` (at a key frame) or `segmentBytes` (0: never), clusters of at most
    /// a second written straight through (no file buffer) so that a crash loses little.
    public func recordingLaunch(segmentNanoseconds: UInt64, segmentBytes: UInt64) -> String {
        var parts = ["splitmuxsink name=mux async-finalize=true muxer-factory=matroskamux "
                     + "muxer-properties=\"properties,max-cluster-duration=(gint64)1000000000,min-cluster-duration=(gint64)0\" "
                     // filesink holds 64 KiB by default: minutes of a quiet stream lost to kill -9.
                     + "sink-properties=\"properties,buffer-mode=(int)2\" "
                     + "max-size-time=\(segmentNanoseconds) max-size-bytes=\(segmentBytes)"]
        for (index, codec) in codecs.enumerated() {
            let source = "appsrc name=src\(index) format=time max-bytes=8000000 block=false"
            switch codec {
            case .h264: parts.append("\(source) ! h264parse ! mux.video")
            case .h265: parts.append("\(source) ! h265parse ! mux.video")
            case .aac, .aacLATM: parts.append("\(source) ! aacparse ! mux.audio_%u")
            case .opus: parts.append("\(source) ! opusparse ! mux.audio_%u")
            case .pcma, .pcmu: parts.append("\(source) ! mux.audio_%u")
            }
        }
        return parts.joined(separator: " ")
    }

    /// Keeps a reason phrase to one printable ASCII line whatever the SDP held.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(40).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
