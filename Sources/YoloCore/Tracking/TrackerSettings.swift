/// Which tracker gives objects their identities.
public enum TrackerKind: Int32, CaseIterable, Sendable {
    case none = 0
    /// Matches boxes by overlap, class by class; a box stays where it was last seen.
    case iou = 1
    /// ByteTrack: Kalman motion, high-score boxes matched first, then low-score ones.
    case bytetrack = 2
}

/// The tracker's tunables, named and defaulted as Ultralytics' `bytetrack.yaml`.
public struct TrackerSettings: Equatable, Sendable {
    public var kind: TrackerKind = .none
    /// Boxes scoring at least this are matched first and may start tracks.
    public var highThreshold = 0.5
    /// Boxes between this and `highThreshold` only continue existing tracks.
    public var lowThreshold = 0.1
    /// An unmatched box starts a track only at this score or more.
    public var newTrackThreshold = 0.6
    /// The largest matching cost (1 − IoU, times the score for ByteTrack) a match may have.
    public var matchThreshold = 0.8
    /// Frames (at 30 fps; scaled to the stream's rate) a lost track is kept to be found again.
    public var trackBuffer = 30
    /// The stream's frame rate; 0 when unknown (counted as 30).
    public var frameRate = 30.0

    public init() {}

    /// How many frames a lost track survives, as Ultralytics computes it.
    public var maxFramesLost: Int {
        let rate = frameRate > 0 ? frameRate : 30
        return max(1, Int(rate / 30 * Double(trackBuffer)))
    }

    /// Settings that contradict each other, said the way a user can fix them; nil when fine.
    public var problem: String? {
        guard kind != .none else { return nil }
        if kind == .bytetrack && lowThreshold >= highThreshold {
            return "track-low-thresh (\(lowThreshold)) must be below track-high-thresh (\(highThreshold)): "
                + "boxes between the two are the ones ByteTrack uses to keep tracks alive"
        }
        if kind == .bytetrack && newTrackThreshold < highThreshold {
            return "new-track-thresh (\(newTrackThreshold)) must not be below track-high-thresh (\(highThreshold)): "
                + "only high-score boxes may start tracks"
        }
        return nil
    }
}
