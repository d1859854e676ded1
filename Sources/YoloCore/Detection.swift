/// An axis-aligned box by its corners.
public struct Box: Equatable, Sendable {
    public var x1: Double, y1: Double, x2: Double, y2: Double

    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }

    public init(centerX: Double, centerY: Double, width: Double, height: Double) {
        self.init(x1: centerX - width / 2, y1: centerY - height / 2, x2: centerX + width / 2, y2: centerY + height / 2)
    }

    public var width: Double { max(0, x2 - x1) }
    public var height: Double { max(0, y2 - y1) }
    public var area: Double { width * height }

    /// The box grown by `share` of its width and height on every side.
    public func buffered(_ share: Double) -> Box {
        guard share > 0 else { return self }
        let dx = width * share, dy = height * share
        return Box(x1: x1 - dx, y1: y1 - dy, x2: x2 + dx, y2: y2 + dy)
    }

    public func iou(_ other: Box) -> Double {
        let w = min(x2, other.x2) - max(x1, other.x1)
        let h = min(y2, other.y2) - max(y1, other.y1)
        guard w > 0, h > 0 else { return 0 }
        let inter = w * h
        return inter / (area + other.area - inter)
    }
}

/// One decoded object: box, class and score.
public struct Detection: Equatable, Sendable {
    public var box: Box
    public var classId: Int
    public var confidence: Double

    public init(box: Box, classId: Int, confidence: Double) {
        self.box = box
        self.classId = classId
        self.confidence = confidence
    }
}

/// A detection in whole frame pixels with its label: what the element attaches and prints.
public struct LabeledDetection: Equatable, Sendable {
    public var label: String
    public var classId: Int
    public var confidence: Double
    public var x: Int, y: Int, width: Int, height: Int
    /// The tracker's identity for the object (≥ 1, unique per stream); nil untracked.
    public var trackId: Int?
    /// A box the tracker carried to a frame that had no inference of its own.
    public var predicted: Bool

    public init(label: String, classId: Int, confidence: Double, x: Int, y: Int, width: Int, height: Int,
                trackId: Int? = nil, predicted: Bool = false) {
        self.label = label
        self.classId = classId
        self.confidence = confidence
        self.x = x; self.y = y; self.width = width; self.height = height
        self.trackId = trackId
        self.predicted = predicted
    }

    /// Rounds a frame-space box outward-inward to whole pixels inside the frame.
    public init(_ detection: Detection, label: String, frameWidth: Int, frameHeight: Int) {
        let x = Int(detection.box.x1.rounded())
        let y = Int(detection.box.y1.rounded())
        let x2 = min(frameWidth, Int(detection.box.x2.rounded()))
        let y2 = min(frameHeight, Int(detection.box.y2.rounded()))
        self.init(label: label, classId: detection.classId, confidence: detection.confidence,
                  x: max(0, x), y: max(0, y), width: max(0, x2 - max(0, x)), height: max(0, y2 - max(0, y)))
    }

    public var box: Box { Box(x1: Double(x), y1: Double(y), x2: Double(x + width), y2: Double(y + height)) }
}
