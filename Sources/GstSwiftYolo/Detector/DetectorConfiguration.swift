import YoloCore

/// Everything start() needs to build a detector, copied from the element's settings.
struct DetectorConfiguration: Sendable {
    var modelPath: String
    var labelsPath: String?
    var head: DetectionHead?
    /// 0 = from metadata, else the family default.
    var inputSize: Int
    var device: String
    var threads: Int
}

/// Per-buffer knobs that may change while playing.
struct DecodeSettings: Equatable, Sendable {
    var confidenceThreshold: Double
    var iouThreshold: Double
    var maxDetections: Int
    /// Labels to keep; empty = all.
    var classes: [String]
}
