import ChatIRC
import Foundation

/// The "Play Video" answer: a room's topic is its stream's RTSP URL while it is live.
enum RoomTopic {
    /// Joins `room` on `server` and waits until its topic is an rtsp:// or rtsps:// URL.
    static func streamURL(server: String, room: String, timeout: Double) -> String? {
        guard let address = IRCServerAddress(server) else { return nil }
        let nick = "viewer\(UInt16.random(in: 1000...65000))"
        let found = DispatchSemaphore(value: 0)
        let answer = Answer()
        let client = IRCClient(options: .init(server: address, nick: nick, rooms: [room])) { event in
            if case let .topic(_, text) = event, text.hasPrefix("rtsp://") || text.hasPrefix("rtsps://") {
                answer.set(text)
                found.signal()
            }
        }
        client.start()
        defer { client.stop(message: "Playing") }
        let deadline = Date().addingTimeInterval(timeout)
        // The topic comes with JOIN; ask again while the room is not live yet.
        while Date() < deadline {
            if found.wait(timeout: .now() + 1) == .success { return answer.value }
            client.requestTopic(room: room)
        }
        return nil
    }

    private final class Answer: @unchecked Sendable {
        private let lock = NSLock()
        private var text: String?
        func set(_ value: String) { lock.withLock { text = value } }
        var value: String? { lock.withLock { text } }
    }
}
