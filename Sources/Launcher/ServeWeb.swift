import ChatCastHTTP
import ChatCastRTSP
import ChatIRCServer
import Foundation
import NIOCore

/// What `chatcast serve`'s web server shows and does, taken from its video and chat servers.
final class ServeWeb: WebBackend, Sendable {
    let video: RTSPServer
    let viewers: WebRTCViewers
    let chat: IRCServer
    private let counters = ServeMetrics()

    init(video: RTSPServer, viewers: WebRTCViewers, chat: IRCServer) {
        self.video = video
        self.viewers = viewers
        self.chat = chat
    }

    func liveRooms() -> [LiveRoom] {
        video.roomStatistics.filter(\.live).map { room in
            LiveRoom(name: room.room, rtspViewers: room.rtspViewers, webrtcViewers: room.webrtcViewers,
                     since: video.liveSince(room.room)?.timeIntervalSince1970 ?? Date().timeIntervalSince1970,
                     rtspURL: video.url(forPath: "/" + room.room))
        }
    }

    func offer(room: String, sdp: String, completion: @escaping @Sendable (WHEPAnswer) -> Void) {
        viewers.start(room: room, offer: sdp) { result in
            switch result {
            case let .success(session): completion(.answer(id: session.id, sdp: session.answer))
            case let .failure(refusal): completion(.refused(status: refusal.status, reason: refusal.reason))
            }
        }
    }

    func endSession(room: String, id: String) -> Bool { viewers.end(room: room, id: id) }

    func metrics() -> String {
        // The web server shares the chat server's loop: read the core in place there.
        let core = chat.core
        let read: @Sendable () -> ServeMetrics.Chat = { ServeMetrics.Chat(clients: core.connectionCount, messagesRelayed: core.roomMessagesRelayed) }
        let chatCounts = core.eventLoop.inEventLoop ? read() : ((try? chat.onLoop { _ in read() }) ?? .init(clients: 0, messagesRelayed: 0))
        return counters.render(rooms: video.roomStatistics, webrtcSessions: viewers.count, rtspSessions: video.sessionCount, chat: chatCounts)
    }

    func addChatHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try chat.core.addSessionHandler(to: pipeline)
    }

    /// The viewer page of `room` at the host a stream URL names (so the topic's two links
    /// name the same host).
    static func pageURL(room: String, streamURL: String, scheme: String, port: Int) -> String {
        let host = URLComponents(string: streamURL)?.host ?? "127.0.0.1"
        let shown = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shown):\(port)/\(room)"
    }
}
