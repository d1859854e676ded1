import ChatCastJSON

/// The `detections` JSON line of DESIGN.md: boxes in pixels of the frame it describes,
/// `pts` in nanoseconds or null.
public enum DetectionsLine {
    public static func json(pts: UInt64?, width: Int, height: Int, objects: [LabeledDetection]) -> String {
        var line = JSONObjectWriter(capacity: 64 + 96 * objects.count)
        line.field("type", "detections")
        line.field("pts", pts)
        line.field("width", width)
        line.field("height", height)
        line.field("objects", json: objectsJSON(objects))
        return String(decoding: line.finish(), as: UTF8.self)
    }

    /// The `objects` array as JSON text (shared with the SEI envelope's `det`).
    public static func objectsJSON(_ objects: [LabeledDetection]) -> [UInt8] {
        JSONObjectWriter.array(objects.map { d in
            var o = JSONObjectWriter(capacity: 96)
            o.field("label", d.label)
            o.field("class_id", d.classId)
            o.field("confidence", roundedConfidence(d.confidence))
            o.field("x", d.x)
            o.field("y", d.y)
            o.field("w", d.width)
            o.field("h", d.height)
            if let id = d.trackId { o.field("track_id", id) }
            if d.predicted { o.field("predicted", true) }
            return o.finish()
        })
    }

    /// Four decimals: enough for a score, and stable text across float widths.
    public static func roundedConfidence(_ c: Double) -> Double { (c * 10_000).rounded() / 10_000 }
}
