/// One room as the metrics show it.
public struct RoomStatistics: Sendable, Equatable {
    public var room: String
    public var live: Bool
    public var rtspViewers: Int
    public var webrtcViewers: Int
    /// Video access units and bytes (all tracks) from the publisher since the room began.
    public var framesReceived: Int
    public var bytesReceived: Int
    /// Payload bytes handed to viewers (RTSP and WebRTC) since the room began.
    public var bytesSent: Int
    /// Over the last few seconds.
    public var frameRate: Double
    public var bitRate: Double
    public var sei: SEICounts
}
