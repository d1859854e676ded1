import CGStreamer
import GstSwift
import Locking
import YoloCore

/// `swiftyolo`: in-place YOLO/FastestDet detection on raw video through libtorch. Attaches
/// one GstVideoRegionOfInterestMeta per object and, on request, posts the detections line.
final class SwiftYolo: VideoFilterImpl, QueryHandler {
    static let formats = PixelLayout.allCases.map(\.rawValue)
    static let caps = "video/x-raw, format=(string){ \(formats.joined(separator: ", ")) }, "
        + "width=(int)[ 1, 32767 ], height=(int)[ 1, 32767 ], framerate=(fraction)[ 0/1, 2147483647/1 ]"

    static let elementDescription = ElementDescription(
        typeName: "GstSwiftYolo", elementName: "swiftyolo", longName: "Swift YOLO detector",
        classification: "Filter/Analyzer/Video",
        summary: "Detects objects with a TorchScript YOLOv8/YOLOv5/FastestDet model and attaches ROI metas",
        author: "ChatCast", sinkCaps: caps, srcCaps: caps, properties: SwiftYoloSettings.properties,
        readOnlyFrames: true)

    static let log = DebugCategory(name: "swiftyolo", description: "Swift YOLO detector")

    /// What start() made; read-only until stop(), so queries read it without waiting on frames.
    private final class Engine: Sendable {
        let detector: DetectorOnThread
        let settingsAtStart: SwiftYoloSettings

        init(detector: DetectorOnThread, settings: SwiftYoloSettings) {
            self.detector = detector
            settingsAtStart = settings
        }

        /// What a sync-mode element adds to the pipeline's latency.
        var addedLatencyMilliseconds: Double { settingsAtStart.mode == .sync ? detector.warmForwardMilliseconds : 0 }
    }

    /// The streaming side: frame geometry, the async worker, the tracker and the last
    /// results. GStreamer calls transform, set_info, serialized events and start/stop under
    /// the sink pad's stream lock, so `stream` is never contended; nothing else takes it.
    private final class Stream {
        let engine: Engine
        var preprocessor: Preprocessor?
        var layout = PixelLayout.rgb
        var matrix = YUVMatrix.bt601
        var async: AsyncInference?
        var last: [LabeledDetection] = []
        var frameIndex = 0
        var warnedClasses: [String] = []
        var tracker: ObjectTracker?

        init(engine: Engine) { self.engine = engine }

        /// A flush or a new segment: nothing found before it describes what comes after.
        func resetStream() {
            async?.reset()
            tracker?.reset()
            last = []
            frameIndex = 0
        }

        /// Unknown names in `classes`, the first time this list is seen (nil otherwise).
        func unknownClassesToReport(_ classes: [String]) -> [String]? {
            guard classes != warnedClasses else { return nil }
            warnedClasses = classes
            let unknown = engine.detector.unknownClasses(classes)
            return unknown.isEmpty ? nil : unknown
        }
    }

    /// One frame's outcome, taken out of the stream lock to be reported.
    private struct FrameWork {
        var detections: [LabeledDetection] = []
        var unknownClasses: [String]?
        var preprocessMilliseconds: Double?
        var outcome: Detector.Outcome?
    }

    private let element: ElementRef
    private let settings = Mutex(SwiftYoloSettings())
    private let stats = Mutex(InferenceStats())
    private let engine = Mutex<Engine?>(nil)
    private let stream = Mutex<Stream?>(nil)
    private let modelInfo = Mutex("model-info")

    init(element: ElementRef) { self.element = element }

    func setProperty(_ name: String, _ value: PropertyValue) {
        if !settings.withLock({ $0.set(name, value) }) {
            SwiftYolo.log.warning(element, "property \(name): value \(value) not understood; unchanged")
        }
    }

    func property(_ name: String) -> PropertyValue {
        if name == "stats" { return .structure(stats.withLock { $0.structureText }) }
        if name == "model-info" { return .structure(modelInfo.withLock { $0 }) }
        return settings.withLock { $0.get(name) } ?? .string(nil)
    }

    func start() throws {
        let s = settings.withLock { $0 }
        if let problem = s.tracker.problem { throw ElementError.settings(problem) }
        guard let modelPath = s.model ?? DefaultModel.path else {
            throw ElementError.resourceNotFound("no model set and the bundled default model (\(DefaultModel.fileName)) "
                                               + "was not found beside the plugin. Set model=PATH or run `make plugins`.")
        }
        let config = DetectorConfiguration(modelPath: modelPath, labelsPath: s.labels, head: s.head,
                                           inputSize: s.inputSize, device: s.device, threads: s.threads)
        let detector: DetectorOnThread
        do {
            detector = try DetectorOnThread(config)
        } catch let e as TorchModel.LoadError {
            throw ElementError.resourceRead(e.description)
        } catch {
            throw ElementError.settings("\(error)")
        }
        SwiftYolo.log.info(element, "loaded \(modelPath): head \(detector.head.rawValue), \(detector.classCount) classes, "
                           + "input \(detector.tensorWidth)×\(detector.tensorHeight)")
        stats.withLock { $0 = InferenceStats() }
        modelInfo.withLock {
            $0 = "model-info, path=(string)\(quotedStructureString(modelPath)), head=(string)\(detector.head.rawValue), "
                + "classes=(int)\(detector.classCount), input-width=(int)\(detector.tensorWidth), "
                + "input-height=(int)\(detector.tensorHeight)"
        }
        let made = Engine(detector: detector, settings: s)
        engine.withLock { $0 = made }
        stream.withLock { $0 = Stream(engine: made) }
    }

    func stop() throws {
        stream.withLock { $0 = nil }
        let ended = engine.withLock { e -> Engine? in
            defer { e = nil }
            return e
        }
        // Outside the locks: the thread finishes a queued async job (whose buffers it holds) first.
        ended?.detector.stop()
    }

    func setInfo(_ info: VideoInfoRef) throws {
        try stream.withLock { stream in
            guard let stream else { return }
            guard let layout = PixelLayout(rawValue: info.formatName) else {
                throw ElementError.format(SwiftYolo.formatMessage(info.formatName))
            }
            stream.layout = layout
            if let m = info.colorMatrix { stream.matrix = YUVMatrix(kr: m.kr, kb: m.kb, fullRange: m.fullRange) }
            let detector = stream.engine.detector
            let pre = detector.makePreprocessor(frameWidth: info.width, frameHeight: info.height)
            guard pre.geometry != stream.preprocessor?.geometry else { return }
            stream.preprocessor = pre
            stream.last = []
            var tracking = stream.engine.settingsAtStart.tracker
            tracking.frameRate = info.frameRate
            stream.tracker = makeTracker(tracking, width: info.width, height: info.height)
            // A job still in flight keeps the old worker (and its buffers) alive until it ends.
            stream.async = stream.engine.settingsAtStart.mode == .async
                ? AsyncInference(detector: detector) { [weak self] outcome in self?.stats.withLock { $0.record(outcome) } }
                : nil
        }
    }

    func capsRefused(_ caps: CapsDescription) {
        guard caps.mediaType == "video/x-raw", let format = caps.format, PixelLayout(rawValue: format) == nil else { return }
        element.post(.format(SwiftYolo.formatMessage(format)))
    }

    static func formatMessage(_ format: String) -> String {
        "swiftyolo cannot take video format \(format): it reads \(formats.joined(separator: ", ")). "
            + "Put videoconvert before swiftyolo."
    }

    func sinkEvent(_ event: UnsafeMutablePointer<GstEvent>) -> Bool {
        switch event.pointee.type {
        case GST_EVENT_FLUSH_STOP, GST_EVENT_SEGMENT:
            stream.withLock { $0?.resetStream() }
        case GST_EVENT_EOS:
            // Let the job in flight finish, so its result and statistics are in before EOS goes on.
            let detector = stream.withLock { $0?.async != nil ? $0?.engine.detector : nil }
            detector?.waitUntilIdle()
        default: break
        }
        return true
    }

    /// Sync mode holds each inferred frame for a forward: add that to the pipeline's latency.
    func query(_ query: UnsafeMutablePointer<GstQuery>, onSourcePad: Bool) -> Bool? {
        guard onSourcePad, query.pointee.type == GST_QUERY_LATENCY,
              let own = engine.withLock({ $0?.addedLatencyMilliseconds }),
              let sinkPad = gst_element_get_static_pad(element.pointer, "sink") else { return nil }
        defer { gst_object_unref(sinkPad) }
        guard gst_pad_peer_query(sinkPad, query) != 0 else { return false }
        var live: gboolean = 0
        var low: GstClockTime = 0, high: GstClockTime = 0
        gst_query_parse_latency(query, &live, &low, &high)
        let added = GstClockTime(own * 1_000_000)
        gst_query_set_latency(query, live, low + added, high != GstClockTime.max ? high + added : high)
        return true
    }

    func transformFrameInPlace(_ frame: VideoFrameRef) throws -> FlowOutcome {
        let s = settings.withLock { $0 }
        let work = try stream.withLock { stream -> FrameWork in
            guard let stream, let pre = stream.preprocessor else {
                throw ElementError.failed("swiftyolo got a frame before its caps")
            }
            var work = FrameWork()
            work.unknownClasses = stream.unknownClassesToReport(s.classes)
            let index = stream.frameIndex
            let infer = index % s.interval == 0
            stream.frameIndex += 1
            let planes = framePlanes(frame, stream.layout, stream.matrix)
            if let async = stream.async {
                if infer {
                    let t0 = monotonicMilliseconds()
                    async.submit(geometry: pre.geometry, settings: s.decode, frame: index) { pre.fill($0, from: planes) }
                    work.preprocessMilliseconds = monotonicMilliseconds() - t0
                }
                switch async.newest() {
                case let .success(found?):
                    guard stream.tracker != nil else {
                        stream.last = found.detections
                        break
                    }
                    if found.frame != stream.tracker!.lastFrame {
                        _ = stream.tracker!.update(found.detections, frame: found.frame)
                    }
                    stream.last = stream.tracker!.predicted(at: index)
                case .success(nil): break
                case let .failure(e): throw ElementError.library(e.description)
                }
            } else if infer {
                let decode = s.decode
                let detected: (outcome: Detector.Outcome, preprocessMilliseconds: Double)
                do {
                    detected = try stream.engine.detector.run { try $0.detect(planes, with: pre, settings: decode) }
                } catch {
                    throw ElementError.library("\(stream.engine.detector.modelPath): inference failed: \(error)")
                }
                if stream.tracker != nil {
                    stream.last = stream.tracker!.update(detected.outcome.detections, frame: index)
                } else {
                    stream.last = detected.outcome.detections
                }
                work.outcome = detected.outcome
                work.preprocessMilliseconds = detected.preprocessMilliseconds
            } else if let tracker = stream.tracker {
                stream.last = tracker.predicted(at: index)
            }
            work.detections = stream.last
            return work
        }
        stats.withLock {
            $0.frames += 1
            if let ms = work.preprocessMilliseconds { $0.preprocess.add(ms) }
            if let outcome = work.outcome { $0.record(outcome) }
        }
        if let unknown = work.unknownClasses {
            let labels = engine.withLock { $0?.detector.labels } ?? []
            element.post(ElementError.settings("classes: \(unknown.joined(separator: ", ")) not among the model's labels "
                                               + "(\(labels.prefix(10).joined(separator: ", "))…)"),
                         warning: true)
        }

        let buffer = frame.buffer
        let detections = work.detections
        for d in detections where !buffer.addDetection(label: d.label, classId: d.classId, confidence: d.confidence,
                                                       x: d.x, y: d.y, width: d.width, height: d.height,
                                                       trackId: d.trackId, predicted: d.predicted) {
            SwiftYolo.log.warning(element, "buffer not writable: detection \(d.label) not attached")
        }
        if s.postMessages {
            let json = DetectionsLine.json(pts: buffer.pts, width: frame.width, height: frame.height, objects: detections)
            element.postJSONMessage(name: "swiftyolo", pts: buffer.pts, json: json)
        }
        return .ok
    }

    private func framePlanes(_ frame: VideoFrameRef, _ layout: PixelLayout, _ matrix: YUVMatrix) -> FramePlanes {
        let count = layout.planeCount
        return FramePlanes(layout: layout, width: frame.width, height: frame.height,
                           planes: (0..<count).map { UnsafePointer(frame.plane($0)) },
                           strides: (0..<count).map { frame.stride($0) }, matrix: matrix)
    }
}
