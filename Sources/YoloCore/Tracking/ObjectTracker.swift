/// Gives detections identities across frames and boxes for frames that get no detection.
/// Frames are counted by the stream (0, 1, 2 …); updates come in increasing frame order.
public protocol ObjectTracker {
    /// The detections found on `frame`; returns the tracked objects on it, each with its id.
    mutating func update(_ detections: [LabeledDetection], frame: Int) -> [LabeledDetection]
    /// The tracked objects carried to a later `frame` that had no detection, marked predicted.
    func predicted(at frame: Int) -> [LabeledDetection]
    /// Forgets every track (a flush or a new segment); ids are not reused.
    mutating func reset()
    /// The frame of the last update, nil before the first or after a reset.
    var lastFrame: Int? { get }
}

/// Makes the tracker `settings` name, nil for `none`; frames are `width`×`height`.
public func makeTracker(_ settings: TrackerSettings, width: Int, height: Int) -> ObjectTracker? {
    switch settings.kind {
    case .none: return nil
    case .iou: return IOUTracker(settings, width: width, height: height)
    case .bytetrack: return ByteTracker(settings, width: width, height: height)
    }
}

/// Ids start at 1 and never repeat within a stream.
struct TrackIDs {
    private var next = 1
    mutating func take() -> Int {
        defer { next += 1 }
        return next
    }
}

extension LabeledDetection {
    /// The detection moved to `box` (rounded into a frame of `width`×`height`) with a track id.
    func tracked(_ id: Int, box: Box, width: Int, height: Int, predicted: Bool) -> LabeledDetection {
        var d = LabeledDetection(Detection(box: box, classId: classId, confidence: confidence), label: label,
                                 frameWidth: width, frameHeight: height)
        d.trackId = id
        d.predicted = predicted
        return d
    }
}
