import NIOCore

/// A live room as the room list shows it.
public struct LiveRoom: Sendable, Equatable {
    public var name: String
    public var rtspViewers: Int
    public var webrtcViewers: Int
    /// Seconds since 1970 when it went live.
    public var since: Double
    public var rtspURL: String
    public init(name: String, rtspViewers: Int, webrtcViewers: Int, since: Double, rtspURL: String) {
        self.name = name
        self.rtspViewers = rtspViewers
        self.webrtcViewers = webrtcViewers
        self.since = since
        self.rtspURL = rtspURL
    }
}

/// An answer to a WHEP offer: the session's id and the SDP, or an HTTP status and reason.
public enum WHEPAnswer: Sendable, Equatable {
    case answer(id: String, sdp: String)
    case refused(status: Int, reason: String)
}

/// What the web server asks of the rest of `chatcast serve`. Calls come on the web server's
/// event loop and must not block it: slow work answers through `completion`, from any thread.
public protocol WebBackend: Sendable {
    func liveRooms() -> [LiveRoom]
    func offer(room: String, sdp: String, completion: @escaping @Sendable (WHEPAnswer) -> Void)
    /// Ends a WHEP session; false when `room` has no session `id`.
    func endSession(room: String, id: String) -> Bool
    /// The Prometheus text exposition of the server's metrics.
    func metrics() -> String
    /// Adds the chat server's handlers to a WebSocket connection's pipeline, after the frames
    /// have become IRC lines (`WebSocketIRCFrames`).
    func addChatHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws
}
