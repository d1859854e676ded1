/// Greedy per-class non-maximum suppression: boxes of different classes never suppress
/// each other (as in Ultralytics' default `agnostic=False`).
public enum NonMaxSuppression {
    /// Candidates beyond this many (by score) are not considered, bounding the O(n²) work
    /// when a low threshold lets thousands through.
    public static let maxCandidates = 30_000

    public static func apply(_ candidates: [Detection], iouThreshold: Double, maxDetections: Int) -> [Detection] {
        guard maxDetections > 0, !candidates.isEmpty else { return [] }
        var sorted = candidates.sorted { $0.confidence > $1.confidence }
        if sorted.count > maxCandidates { sorted.removeLast(sorted.count - maxCandidates) }
        var kept: [Detection] = []
        kept.reserveCapacity(min(maxDetections, sorted.count))
        for candidate in sorted {
            let overlaps = kept.contains {
                $0.classId == candidate.classId && $0.box.iou(candidate.box) > iouThreshold
            }
            if !overlaps {
                kept.append(candidate)
                if kept.count == maxDetections { break }
            }
        }
        return kept
    }
}
