import Foundation

/// Scale and Speed of a PLAY request (RFC 2326 12.34, 12.35) on a live mount. Debian's
/// gst-rtsp-server 1.22.0 lacks the CVE-2024-44331 fix and aborts the whole process on some
/// values, so they are judged here before the media sees them. A live stream plays at 1.
public enum PlaybackRate {
    public enum Verdict: Equatable, Sendable {
        case accepted
        /// Not a number, not finite, or not positive: 400 Bad Request.
        case malformed(String)
        /// A well-formed rate other than 1: 456 Header Field Not Valid for Resource.
        case unsupported(String)
    }

    public static func judge(scale: String?, speed: String?) -> Verdict {
        for (name, value) in [("Scale", scale), ("Speed", speed)] {
            guard let value else { continue }
            let text = value.trimmingCharacters(in: .whitespaces)
            guard let rate = Double(text), rate.isFinite, rate > 0 else {
                return .malformed("\(name): \(value.prefix(32)) is not a positive number")
            }
            if rate != 1 { return .unsupported("\(name): \(text) (a live stream plays at 1)") }
        }
        return .accepted
    }
}
