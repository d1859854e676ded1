import ChatIRC
import Foundation
import Locking

/// The "Play Video" answer: a room's topic holds its stream's RTSP URL while it is live
/// (then, when browsers are served, its page: `rtsp://HOST:8554/ROOM http://HOST:8080/ROOM`).
enum RoomTopic {
    /// The first rtsp:// or rtsps:// word of a topic.
    static func streamURL(inTopic topic: String) -> String? {
        topic.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("rtsp://") || $0.hasPrefix("rtsps://") }
    }

    enum Failure: Error, CustomStringConvertible {
        case badAddress(String)
        case unreachable(String, reason: String)
        case notLive(room: String, server: String, seconds: Int)

        var description: String {
            switch self {
            case let .badAddress(server): return "\(server) is not an irc:// or ircs:// address"
            case let .unreachable(server, reason):
                return "cannot reach the chat server \(server): \(reason) (is `chatcast serve` running there? --wait SECONDS keeps trying)"
            case let .notLive(room, server, seconds): return "#\(room) has no live stream on \(server) (no rtsp:// topic within \(seconds) s)"
            }
        }
    }

    /// Joins `room` on `server` and waits until its topic is an rtsp:// or rtsps:// URL. A
    /// server that cannot be reached fails at once, unless `keepTrying` (then it is retried
    /// until `timeout`).
    static func streamURL(server: String, room: String, timeout: Double, keepTrying: Bool = false) -> Result<String, Failure> {
        guard let address = IRCServerAddress(server) else { return .failure(.badAddress(server)) }
        let nick = "viewer\(UInt16.random(in: 1000...65000))"
        let changed = DispatchSemaphore(value: 0)
        let state = State()
        let client = IRCClient(options: .init(server: address, nick: nick, rooms: [room])) { event in
            switch event {
            case let .topic(_, text) where streamURL(inTopic: text) != nil:
                state.found(streamURL(inTopic: text)!)
                changed.signal()
            case .connected:
                state.connected()
            case let .disconnected(reason):
                if state.lost(reason) { changed.signal() }
            default: break
            }
        }
        client.start()
        defer { client.stop(message: "Playing") }
        let deadline = Date().addingTimeInterval(timeout)
        // The topic comes with JOIN; ask again while the room is not live yet.
        while Date() < deadline {
            _ = changed.wait(timeout: .now() + 1)
            if let url = state.url { return .success(url) }
            if !keepTrying, let reason = state.unreachable { return .failure(.unreachable(server, reason: reason)) }
            client.requestTopic(room: room)
        }
        if let reason = state.unreachable { return .failure(.unreachable(server, reason: reason)) }
        return .failure(.notLive(room: room, server: server, seconds: Int(timeout)))
    }

    private final class State: Sendable {
        private struct Seen {
            var text: String?
            var everConnected = false
            var failure: String?
        }
        private let seen = Mutex(Seen())
        func found(_ value: String) { seen.withLock { $0.text = value } }
        func connected() { seen.withLock { $0.everConnected = true } }
        /// True when the server was never reached (the reason is kept).
        func lost(_ reason: String) -> Bool {
            seen.withLock { s in
                guard !s.everConnected else { return false }
                s.failure = reason
                return true
            }
        }
        var url: String? { seen.withLock { $0.text } }
        var unreachable: String? { seen.withLock { $0.everConnected ? nil : $0.failure } }
    }
}
