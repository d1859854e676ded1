import GstSwift
import YoloCore

/// The element's properties. Held behind a mutex and copied once per buffer.
struct SwiftYoloSettings: Sendable {
    enum Mode: Int32, Sendable { case sync = 0, async = 1 }

    var model: String? = nil
    var labels: String? = nil
    /// nil = auto.
    var head: DetectionHead? = nil
    var inputSize: Int = 0
    var confidenceThreshold: Double = 0.25
    var iouThreshold: Double = 0.45
    var maxDetections: Int = 100
    var classes: [String] = []
    var interval: Int = 1
    var mode: Mode = .sync
    var device: String = "cpu"
    var threads: Int = 0
    var postMessages: Bool = false
    var tracker = TrackerSettings()

    /// ByteTrack continues tracks with boxes below the confidence threshold (down to
    /// track-low-thresh), so the detector keeps those for it.
    var decode: DecodeSettings {
        let floor = tracker.kind == .bytetrack ? min(confidenceThreshold, tracker.lowThreshold) : confidenceThreshold
        return DecodeSettings(confidenceThreshold: floor, iouThreshold: iouThreshold, maxDetections: maxDetections,
                              classes: classes)
    }

    static let trackerValues: [(Int32, String, String)] = [
        (TrackerKind.none.rawValue, "none", "No identities: each frame's detections stand alone"),
        (TrackerKind.iou.rawValue, "iou", "Match boxes by overlap (no motion model)"),
        (TrackerKind.bytetrack.rawValue, "bytetrack", "ByteTrack: Kalman motion, high- then low-score association"),
    ]

    static let headValues: [(Int32, String, String)] = [
        (0, "auto", "Recognise the head from the output shape"),
        (1, "yolov8", "YOLOv8/YOLO11: [1,4+nc,N]"),
        (2, "yolov5", "YOLOv5/YOLOv7: [1,N,5+nc]"),
        (3, "fastestdet", "FastestDet: [1,5+nc,H,W]"),
    ]
    static let heads: [DetectionHead?] = [nil, .yolov8, .yolov5, .fastestdet]

    /// Writable properties, each bound to its field (read-only `stats` and `model-info`
    /// come from the running element).
    static let table = PropertyTable<SwiftYoloSettings>([
        .string(PropertySpec("model", nick: "Model", blurb: "TorchScript model file (unset = the bundled default ball detector)",
                             .string(default: nil)), \.model),
        .string(PropertySpec("labels", nick: "Labels", blurb: "Class names file, one per line (overrides export metadata)",
                             .string(default: nil)), \.labels),
        BoundProperty(PropertySpec("head", nick: "Head", blurb: "Output layout of the model",
                                   .enumeration(typeName: "GstSwiftYoloHead", values: headValues, default: 0)),
                      get: { .enumeration(Int32(heads.firstIndex(of: $0.head) ?? 0)) },
                      set: { s, v in
                          guard case let .enumeration(e) = v, heads.indices.contains(Int(e)) else { return false }
                          s.head = heads[Int(e)]
                          return true
                      }),
        .int(PropertySpec("input-size", nick: "Input size",
                          blurb: "Model input side when the export has no metadata (0 = metadata or the family default)",
                          .int(min: 0, max: 4096, default: 0)), \.inputSize),
        .double(PropertySpec("conf-threshold", nick: "Confidence threshold", blurb: "Lowest score kept",
                             .double(min: 0, max: 1, default: 0.25), mutability: .playing), \.confidenceThreshold),
        .double(PropertySpec("iou-threshold", nick: "IoU threshold", blurb: "Overlap above which NMS suppresses a box",
                             .double(min: 0, max: 1, default: 0.45), mutability: .playing), \.iouThreshold),
        .int(PropertySpec("max-detections", nick: "Max detections", blurb: "Most objects kept per frame",
                          .int(min: 0, max: 10_000, default: 100), mutability: .playing), \.maxDetections),
        BoundProperty(PropertySpec("classes", nick: "Classes",
                                   blurb: "Comma-separated labels (or class ids) to keep; empty = all", .string(default: nil),
                                   mutability: .playing),
                      get: { .string($0.classes.isEmpty ? nil : $0.classes.joined(separator: ",")) },
                      set: { s, v in
                          guard case let .string(text) = v else { return false }
                          s.classes = (text ?? "").split(separator: ",").map { String($0).trimmingSpaces() }
                              .filter { !$0.isEmpty }
                          return true
                      }),
        .int(PropertySpec("interval", nick: "Interval",
                          blurb: "Infer every N-th frame; frames between carry the tracker's predicted boxes (without a tracker: the last results)",
                          .int(min: 1, max: 10_000, default: 1), mutability: .playing), \.interval),
        .enumeration(PropertySpec("mode", nick: "Mode",
                                  blurb: "sync: each inferred frame waits for its result; async: inference runs on a worker on the newest frame and frames never wait",
                                  .enumeration(typeName: "GstSwiftYoloMode",
                                               values: [(0, "sync", "Wait for each result"),
                                                        (1, "async", "Never wait; carry the newest results (moved by the tracker when one is set)")],
                                               default: 0)), \.mode),
        BoundProperty(PropertySpec("device", nick: "Device", blurb: "cpu, cuda or cuda:N", .string(default: "cpu")),
                      get: { .string($0.device) },
                      set: { s, v in
                          guard case let .string(text) = v else { return false }
                          s.device = text ?? "cpu"
                          return true
                      }),
        .int(PropertySpec("threads", nick: "Threads", blurb: "libtorch intra-op threads (0 = all cores)",
                          .int(min: 0, max: 256, default: 0)), \.threads),
        .bool(PropertySpec("post-messages", nick: "Post messages",
                           blurb: "Post a `swiftyolo` element message (pts, json) per frame", .bool(default: false),
                           mutability: .playing), \.postMessages),
        .enumeration(PropertySpec("tracker", nick: "Tracker",
                                  blurb: "Give each object a track-id across frames and carry tracked boxes over frames without inference",
                                  .enumeration(typeName: "GstSwiftYoloTracker", values: trackerValues, default: 0)),
                    \.tracker.kind),
        .double(PropertySpec("track-high-thresh", nick: "Track high threshold",
                             blurb: "bytetrack: boxes scoring above this are matched first",
                             .double(min: 0, max: 1, default: 0.5)), \.tracker.highThreshold),
        .double(PropertySpec("track-low-thresh", nick: "Track low threshold",
                             blurb: "bytetrack: boxes scoring above this (and below track-high-thresh) only continue tracks",
                             .double(min: 0, max: 1, default: 0.1)), \.tracker.lowThreshold),
        .double(PropertySpec("new-track-thresh", nick: "New track threshold",
                             blurb: "bytetrack: an unmatched box starts a track only at this score",
                             .double(min: 0, max: 1, default: 0.6)), \.tracker.newTrackThreshold),
        .double(PropertySpec("match-threshold", nick: "Match threshold",
                             blurb: "Largest matching cost (1 - IoU, fused with the score for bytetrack) a match may have",
                             .double(min: 0, max: 1, default: 0.8)), \.tracker.matchThreshold),
        .int(PropertySpec("track-buffer", nick: "Track buffer",
                          blurb: "Frames (at 30 fps, scaled to the stream's rate) a lost track waits to be found again",
                          .int(min: 1, max: 10_000, default: 30)), \.tracker.trackBuffer),
    ])

    static let properties: [PropertySpec] = table.specs + [
        PropertySpec("model-info", nick: "Model information",
                     blurb: "The loaded model: path, head, classes, input-width, input-height (after start)",
                     .structure, mutability: .readOnly),
        PropertySpec("stats", nick: "Statistics",
                     blurb: "frames, inferences, and mean/p95 milliseconds of preprocess, inference, postprocess",
                     .structure, mutability: .readOnly),
    ]

    /// False for a name or value type the element does not declare.
    mutating func set(_ name: String, _ value: PropertyValue) -> Bool { SwiftYoloSettings.table.set(name, value, on: &self) }

    func get(_ name: String) -> PropertyValue? { SwiftYoloSettings.table.get(name, from: self) }
}
