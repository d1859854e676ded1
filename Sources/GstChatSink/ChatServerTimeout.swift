import GstSwift

/// How long chatinject and chatsink wait for a silent chat server: a PING after this many
/// seconds without a line, and a new connection when it goes unanswered as long again (a
/// connection a NAT or a crashed host left half-open never tells).
enum ChatServerTimeout {
    static let defaultSeconds = 60

    static let spec = PropertySpec("ping-interval", nick: "Ping interval",
                                   blurb: "Seconds without a line from the chat server before it is pinged; unanswered as long again, the client reconnects",
                                   .int(min: 2, max: 3600, default: Int32(defaultSeconds)))
}
