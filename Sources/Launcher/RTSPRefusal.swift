import Foundation

/// Why an RTSP server refused a publisher or viewer, in words a user can act on.
/// rtspclientsink and rtspsrc report a refusal as a generic resource error — a second
/// publisher to a live room read "Could not read from resource." — and keep the status only
/// in the error's debug text ("Got error response: 455 (…)", "Not Found (404)").
enum RTSPRefusal {
    /// The RTSP status in the debug text of rtspsrc's or rtspclientsink's error (the text
    /// names their source file; other elements' errors are left alone).
    static func status(inDebug debug: String) -> Int? {
        guard debug.contains("gstrtspsrc.c") || debug.contains("gstrtspclientsink.c") else { return nil }
        if debug.hasSuffix("Unauthorized") { return 401 }
        let patterns = [#"Got error response: (\d{3})"#, #"\((\d{3})\)"#]
        for pattern in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let match = regex.firstMatch(in: debug, range: NSRange(debug.startIndex..., in: debug)),
                  let range = Range(match.range(at: 1), in: debug), let code = Int(debug[range]), (400..<600).contains(code)
            else { continue }
            return code
        }
        return nil
    }

    /// What the status means, with ChatCast's server in mind.
    static func meaning(of status: Int) -> String {
        switch status {
        case 401: return "it wants a user and password: publish --user/--password, play rtsp://USER:PASS@HOST/…"
        case 404: return "nothing is published at this path; is the room live?"
        case 405: return "this path is a fixed mount: it can be played, not published to"
        case 453: return "it has as many rooms as it allows"
        case 415: return "it does not take this stream's codec (it takes H.264 or H.265 video with AAC, Opus, PCMA or PCMU audio)"
        case 455: return "another publisher already feeds this room"
        case 503: return "it has as many viewers as it allows, or is busy; try again"
        default: return "a refusal"
        }
    }

    /// The error's message, with the server's answer explained when there is one.
    static func explain(_ message: String, debug: String) -> String {
        guard let status = status(inDebug: debug) else { return message }
        let said = message.hasSuffix(".") ? String(message.dropLast()) : message
        return "\(said): the server answered \(status) — \(meaning(of: status))"
    }
}
