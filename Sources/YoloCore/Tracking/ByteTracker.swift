/// ByteTrack (Zhang et al., 2022) as Ultralytics 8.0 implements it: Kalman-predicted tracks
/// are matched to high-score boxes (IoU fused with the score), the tracks left over to
/// low-score boxes, unconfirmed tracks to what remains; unmatched high boxes start tracks,
/// lost tracks wait `maxFramesLost` frames to be found again. Class-agnostic, as theirs.
/// Frames between updates advance the motion model one step per frame, and when updates
/// are several frames apart (interval, async) boxes are compared with a buffer that grows
/// with the gap (buffered IoU, as C-BIoU), so a track whose motion is not yet known still
/// meets its object one update later. One more departure, with an update every frame: a box
/// that overlaps the predicted boxes of two tracks is two objects merging, and a tracked
/// track matched to it keeps its own motion instead of being pulled onto the blob, so the
/// two come out of the merge on their own paths (fewer id switches where objects cross).
public struct ByteTracker: ObjectTracker {
    enum State { case tracked, lost, removed }

    struct Track {
        var id: Int
        var filter: KalmanBoxFilter
        var detection: LabeledDetection
        var state: State = .tracked
        var activated: Bool
        /// Last frame it was matched on, and the frame it began.
        var frame: Int
        var startFrame: Int
        /// The frame its filter's state describes.
        var filterFrame: Int

        var box: Box { filter.box }

        /// Moves the filter to `frame`; lost tracks keep their height (as ByteTrack does).
        mutating func advance(to target: Int) {
            while filterFrame < target {
                filter.predict(holdHeight: state != .tracked)
                filterFrame += 1
            }
        }

        /// Matched to a box it shares with another track: it keeps its own motion.
        mutating func coast(_ d: LabeledDetection, frame: Int) {
            detection = d
            self.frame = frame
        }

        mutating func update(_ d: LabeledDetection, frame: Int) {
            filter.update(with: d.box)
            detection = d
            state = .tracked
            activated = true
            self.frame = frame
        }
    }

    private let settings: TrackerSettings
    private let width: Int, height: Int
    private var tracks: [Track] = []
    private var ids = TrackIDs()
    public private(set) var lastFrame: Int?
    /// The buffer of this update's comparisons.
    private var buffer = 0.0

    public init(_ settings: TrackerSettings, width: Int, height: Int) {
        self.settings = settings
        self.width = width
        self.height = height
    }

    /// The buffer added to each side of both boxes, as a share of their size, per frame of
    /// gap beyond the first, and its largest value.
    static let bufferPerFrame = 0.15, maxBuffer = 0.6

    public mutating func update(_ detections: [LabeledDetection], frame: Int) -> [LabeledDetection] {
        let firstFrame = lastFrame == nil
        let gap = frame - (lastFrame ?? frame)
        buffer = min(ByteTracker.maxBuffer, ByteTracker.bufferPerFrame * Double(max(0, gap - 1)))
        lastFrame = frame
        for i in tracks.indices { tracks[i].advance(to: frame) }

        let high = detections.filter { $0.confidence > settings.highThreshold }
        let low = detections.filter { $0.confidence > settings.lowThreshold && $0.confidence < settings.highThreshold }
        let unconfirmed = tracks.indices.filter { tracks[$0].state == .tracked && !tracks[$0].activated }
        let pool = tracks.indices.filter { tracks[$0].state == .lost || (tracks[$0].state == .tracked && tracks[$0].activated) }

        // 1. Confirmed and lost tracks against high-score boxes.
        let first = LinearAssignment.solve(costs(pool, high, fuseScore: true), columns: high.count,
                                           threshold: settings.matchThreshold)
        // Across a gap the motion model is too unsure to coast on (worse on the recorded clips).
        let shared = gap <= 1 ? sharedBoxes(high, among: pool) : []
        for (r, c) in first.matches {
            if shared.contains(c) && tracks[pool[r]].state == .tracked {
                tracks[pool[r]].coast(high[c], frame: frame)
            } else {
                tracks[pool[r]].update(high[c], frame: frame)
            }
        }

        // 2. Tracks still tracked but unmatched against low-score boxes.
        let remaining = first.unmatchedRows.map { pool[$0] }.filter { tracks[$0].state == .tracked }
        let second = LinearAssignment.solve(costs(remaining, low, fuseScore: false), columns: low.count, threshold: 0.5)
        for (r, c) in second.matches { tracks[remaining[r]].update(low[c], frame: frame) }
        for r in second.unmatchedRows { tracks[remaining[r]].state = .lost }

        // 3. Tracks seen once against the high boxes left; those unmatched end.
        let leftHigh = first.unmatchedColumns.map { high[$0] }
        let third = LinearAssignment.solve(costs(unconfirmed, leftHigh, fuseScore: true), columns: leftHigh.count,
                                           threshold: 0.7)
        for (r, c) in third.matches { tracks[unconfirmed[r]].update(leftHigh[c], frame: frame) }
        for r in third.unmatchedRows { tracks[unconfirmed[r]].state = .removed }

        // 4. New tracks from confident boxes nobody claimed; lost tracks past the buffer end.
        for c in third.unmatchedColumns where leftHigh[c].confidence >= settings.newTrackThreshold {
            let d = leftHigh[c]
            tracks.append(Track(id: ids.take(), filter: KalmanBoxFilter(box: d.box), detection: d,
                                activated: firstFrame, frame: frame, startFrame: frame, filterFrame: frame))
        }
        for i in tracks.indices where tracks[i].state == .lost && frame - tracks[i].frame > settings.maxFramesLost {
            tracks[i].state = .removed
        }
        tracks.removeAll { $0.state == .removed }
        removeDuplicates()
        return tracks.filter { $0.state == .tracked && $0.activated && $0.frame == frame }
            .map { $0.detection.tracked($0.id, box: $0.box, width: width, height: height, predicted: false) }
    }

    public func predicted(at frame: Int) -> [LabeledDetection] {
        guard let lastFrame else { return [] }
        return tracks.filter { $0.state == .tracked && $0.activated && $0.frame == lastFrame }.map {
            $0.detection.tracked($0.id, box: $0.filter.extrapolated(steps: frame - $0.filterFrame), width: width,
                                 height: height, predicted: frame != lastFrame)
        }
    }

    public mutating func reset() {
        tracks = []
        lastFrame = nil
    }

    /// The detections that overlap (IoU > `sharedOverlap`) the predicted boxes of two or more
    /// tracks: objects merged into one box, or about to be.
    private func sharedBoxes(_ detections: [LabeledDetection], among rows: [Int]) -> Set<Int> {
        Set(detections.indices.filter { c in
            rows.lazy.filter { tracks[$0].box.iou(detections[c].box) > ByteTracker.sharedOverlap }.prefix(2).count == 2
        })
    }

    static let sharedOverlap = 0.2

    /// 1 − IoU of each track's predicted box with each detection (both buffered), optionally
    /// fused with the detection's score (1 − IoU·score), as Ultralytics' `fuse_score`.
    private func costs(_ rows: [Int], _ detections: [LabeledDetection], fuseScore: Bool) -> [[Double]] {
        rows.map { i in
            detections.map { d in
                let iou = tracks[i].box.buffered(buffer).iou(d.box.buffered(buffer))
                return 1 - (fuseScore ? iou * d.confidence : iou)
            }
        }
    }

    /// A lost track that overlaps a tracked one (IoU > 0.85) is the same object twice: the
    /// younger of the two goes.
    private mutating func removeDuplicates() {
        let tracked = tracks.indices.filter { tracks[$0].state == .tracked }
        let lost = tracks.indices.filter { tracks[$0].state == .lost }
        var drop = Set<Int>()
        for p in tracked {
            for q in lost where 1 - tracks[p].box.iou(tracks[q].box) < 0.15 {
                let ageP = tracks[p].frame - tracks[p].startFrame, ageQ = tracks[q].frame - tracks[q].startFrame
                drop.insert(ageP > ageQ ? q : p)
            }
        }
        guard !drop.isEmpty else { return }
        tracks = tracks.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }
}
