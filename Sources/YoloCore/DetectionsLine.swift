import ChatCastJSON

/// The `detections` JSON line of DESIGN.md: boxes in pixels of the frame it describes,
/// `pts` in nanoseconds or null.
public enum DetectionsLine {
    public static func json(pts: UInt64?, width: Int, height: Int, objects: [LabeledDetection]) -> String {
        JSONWriter.write(value(pts: pts, width: width, height: height, objects: objects))
    }

    public static func value(pts: UInt64?, width: Int, height: Int, objects: [LabeledDetection]) -> JSONValue {
        .object([
            ("type", .string("detections")),
            ("pts", pts.map { .number(Double($0)) } ?? .null),
            ("width", .number(Double(width))),
            ("height", .number(Double(height))),
            ("objects", .array(objects.map(object))),
        ])
    }

    public static func object(_ d: LabeledDetection) -> JSONValue {
        .object([
            ("label", .string(d.label)),
            ("class_id", .number(Double(d.classId))),
            // Four decimals: enough for a score, and stable text across float widths.
            ("confidence", .number((d.confidence * 10_000).rounded() / 10_000)),
            ("x", .number(Double(d.x))), ("y", .number(Double(d.y))),
            ("w", .number(Double(d.width))), ("h", .number(Double(d.height))),
        ])
    }
}
