/// The simplest tracker: a detection continues the track of the same class it overlaps
/// most (cost 1 − IoU up to `matchThreshold`), unmatched detections start tracks, and a track
/// not seen for `maxFramesLost` frames ends. No motion model: frames without detection keep
/// each box where it was last seen.
public struct IOUTracker: ObjectTracker {
    struct Track {
        var id: Int
        var last: LabeledDetection
        var frame: Int
    }

    private let settings: TrackerSettings
    private let width: Int, height: Int
    private var tracks: [Track] = []
    private var ids = TrackIDs()
    public private(set) var lastFrame: Int?

    public init(_ settings: TrackerSettings, width: Int, height: Int) {
        self.settings = settings
        self.width = width
        self.height = height
    }

    public mutating func update(_ detections: [LabeledDetection], frame: Int) -> [LabeledDetection] {
        lastFrame = frame
        let cost = tracks.map { t in
            detections.map { d in d.classId == t.last.classId ? 1 - t.last.box.iou(d.box) : .infinity }
        }
        let outcome = LinearAssignment.solve(cost, columns: detections.count, threshold: settings.matchThreshold)
        var output: [LabeledDetection] = []
        for (r, c) in outcome.matches {
            tracks[r].last = detections[c]
            tracks[r].frame = frame
            output.append(detections[c].tracked(tracks[r].id, box: detections[c].box, width: width, height: height,
                                                predicted: false))
        }
        for c in outcome.unmatchedColumns {
            let id = ids.take()
            tracks.append(Track(id: id, last: detections[c], frame: frame))
            output.append(detections[c].tracked(id, box: detections[c].box, width: width, height: height, predicted: false))
        }
        tracks.removeAll { frame - $0.frame > settings.maxFramesLost }
        return output.sorted { $0.trackId! < $1.trackId! }
    }

    public func predicted(at frame: Int) -> [LabeledDetection] {
        guard let lastFrame else { return [] }
        return tracks.filter { $0.frame == lastFrame }.map {
            $0.last.tracked($0.id, box: $0.last.box, width: width, height: height, predicted: frame != lastFrame)
        }
    }

    public mutating func reset() {
        tracks = []
        lastFrame = nil
    }
}
