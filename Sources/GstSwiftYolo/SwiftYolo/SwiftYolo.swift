import CGStreamer
import GstSwift
import Synchronization
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

    /// What exists only between start() and stop().
    private final class Running {
        let detector: Detector
        let inference: InferenceThread
        let settingsAtStart: SwiftYoloSettings
        var preprocessor: Preprocessor?
        var layout = PixelLayout.rgb
        var matrix = YUVMatrix.bt601
        var tensor: UnsafeMutableBufferPointer<Float>?
        var async: AsyncInference?
        var last: [LabeledDetection] = []
        var frameIndex = 0
        var warnedClasses: [String] = []
        var tracker: ObjectTracker?

        /// A flush or a new segment: nothing found before it describes what comes after.
        func resetStream() {
            async?.reset()
            tracker?.reset()
            last = []
            frameIndex = 0
        }

        init(detector: Detector, inference: InferenceThread, settings: SwiftYoloSettings) {
            self.detector = detector
            self.inference = inference
            settingsAtStart = settings
        }

        /// Frees what belongs to one frame geometry.
        func releaseBuffers() {
            // An async job in flight still reads its buffers: let the thread finish it first.
            if async != nil { _ = try? inference.sync {} }
            async = nil
            tensor?.deallocate()
            tensor = nil
        }

        func stop() {
            releaseBuffers()
            inference.stop()
        }
    }

    private let element: ElementRef
    private let settings = Mutex(SwiftYoloSettings())
    private let stats = Mutex(InferenceStats())
    private let state = Mutex<Running?>(nil)
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
        let inference = InferenceThread()
        let detector: Detector
        do {
            detector = try inference.sync { try Detector(config) }
        } catch let e as TorchModel.LoadError {
            inference.stop()
            throw ElementError.resourceRead(e.description)
        } catch {
            inference.stop()
            throw ElementError.settings("\(error)")
        }
        SwiftYolo.log.info(element, "loaded \(modelPath): head \(detector.head.rawValue), \(detector.layout.classCount) classes, "
                           + "input \(detector.tensorWidth)×\(detector.tensorHeight)")
        stats.withLock { $0 = InferenceStats() }
        modelInfo.withLock {
            $0 = "model-info, path=(string)\(quotedStructureString(modelPath)), head=(string)\(detector.head.rawValue), "
                + "classes=(int)\(detector.layout.classCount), input-width=(int)\(detector.tensorWidth), "
                + "input-height=(int)\(detector.tensorHeight)"
        }
        state.withLock { $0 = Running(detector: detector, inference: inference, settings: s) }
    }

    func stop() throws {
        let running = state.withLock { s -> Running? in
            defer { s = nil }
            return s
        }
        running?.stop()
    }

    func setInfo(_ info: VideoInfoRef) throws {
        try state.withLock { running in
            guard let running else { return }
            guard let layout = PixelLayout(rawValue: info.formatName) else {
                throw ElementError.format(SwiftYolo.formatMessage(info.formatName))
            }
            running.layout = layout
            if let m = info.colorMatrix { running.matrix = YUVMatrix(kr: m.kr, kb: m.kb, fullRange: m.fullRange) }
            let pre = running.detector.makePreprocessor(frameWidth: info.width, frameHeight: info.height)
            guard pre.geometry != running.preprocessor?.geometry else { return }
            running.releaseBuffers()
            running.preprocessor = pre
            running.last = []
            var tracking = running.settingsAtStart.tracker
            tracking.frameRate = info.frameRate
            running.tracker = makeTracker(tracking, width: info.width, height: info.height)
            if running.settingsAtStart.mode == .async {
                running.async = AsyncInference(detector: running.detector, thread: running.inference) {
                    [weak self] outcome in
                    self?.stats.withLock { $0.record(outcome) }
                }
            } else {
                running.tensor = pre.makeTensor()
            }
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
            state.withLock { $0?.resetStream() }
        case GST_EVENT_EOS:
            // Let the job in flight finish, so its result and statistics are in before EOS goes on.
            let inference = state.withLock { $0?.async != nil ? $0?.inference : nil }
            _ = try? inference?.sync {}
        default: break
        }
        return true
    }

    /// Sync mode holds each inferred frame for a forward: add that to the pipeline's latency.
    func query(_ query: UnsafeMutablePointer<GstQuery>, onSourcePad: Bool) -> Bool? {
        guard onSourcePad, query.pointee.type == GST_QUERY_LATENCY,
              let own = state.withLock({ $0.map { $0.settingsAtStart.mode == .sync ? $0.detector.warmForwardMilliseconds : 0 } }),
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
        let detections = try state.withLock { running -> [LabeledDetection] in
            guard let running, let pre = running.preprocessor else {
                throw ElementError.failed("swiftyolo got a frame before its caps")
            }
            warnAboutUnknownClasses(running, s.classes)
            let index = running.frameIndex
            let infer = index % s.interval == 0
            running.frameIndex += 1
            let planes = framePlanes(frame, running.layout, running.matrix)
            if let async = running.async {
                if infer {
                    let t0 = monotonicMilliseconds()
                    async.submit(geometry: pre.geometry, settings: s.decode, frame: index) { pre.fill($0, from: planes) }
                    let elapsed = monotonicMilliseconds() - t0
                    stats.withLock { $0.preprocess.add(elapsed) }
                }
                switch async.newest() {
                case let .success(found?):
                    guard running.tracker != nil else {
                        running.last = found.detections
                        break
                    }
                    if found.frame != running.tracker!.lastFrame {
                        _ = running.tracker!.update(found.detections, frame: found.frame)
                    }
                    running.last = running.tracker!.predicted(at: index)
                case .success(nil): break
                case let .failure(e): throw ElementError.library(e.description)
                }
            } else if infer, let tensor = running.tensor {
                let t0 = monotonicMilliseconds()
                pre.fill(tensor.baseAddress!, from: planes)
                let t1 = monotonicMilliseconds()
                do {
                    let detector = running.detector, geometry = pre.geometry, decode = s.decode
                    let outcome = try running.inference.sync {
                        try detector.detect(tensor.baseAddress!, geometry: geometry, settings: decode)
                    }
                    if running.tracker != nil {
                        running.last = running.tracker!.update(outcome.detections, frame: index)
                    } else {
                        running.last = outcome.detections
                    }
                    stats.withLock {
                        $0.preprocess.add(t1 - t0)
                        $0.record(outcome)
                    }
                } catch {
                    throw ElementError.library("\(running.detector.model.path): inference failed: \(error)")
                }
            } else if let tracker = running.tracker {
                running.last = tracker.predicted(at: index)
            }
            return running.last
        }
        stats.withLock { $0.frames += 1 }

        let buffer = frame.buffer
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

    private func warnAboutUnknownClasses(_ running: Running, _ classes: [String]) {
        guard classes != running.warnedClasses else { return }
        running.warnedClasses = classes
        let unknown = running.detector.allowedClasses(classes).unknown
        if !unknown.isEmpty {
            element.post(ElementError.settings("classes: \(unknown.joined(separator: ", ")) not among the model's labels "
                                               + "(\(running.detector.labels.prefix(10).joined(separator: ", "))…)"),
                         warning: true)
        }
    }

    private func framePlanes(_ frame: VideoFrameRef, _ layout: PixelLayout, _ matrix: YUVMatrix) -> FramePlanes {
        let count = layout.planeCount
        return FramePlanes(layout: layout, width: frame.width, height: frame.height,
                           planes: (0..<count).map { UnsafePointer(frame.plane($0)) },
                           strides: (0..<count).map { frame.stride($0) }, matrix: matrix)
    }
}
