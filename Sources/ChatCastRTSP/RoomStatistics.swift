import Foundation

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
    /// When the room last went live (nil while it is not).
    public var liveSince: Date?
    /// Ticks of the pacer (which feeds starting viewers every 10 ms) that came 50 ms or more
    /// after the one before, and the longest such gap: both stay low unless something
    /// starves the pacer's thread.
    public var pacerLateTicks = 0
    public var pacerLongestGapSeconds = 0.0
}
