#if canImport(Glibc)
import Glibc
#endif
import YoloCore

/// A loaded model ready to detect: knows its head, input size and labels. Knows nothing of
/// GStreamer, so it can be tested and benchmarked on plain memory.
final class Detector {
    struct SetupError: Error, CustomStringConvertible { let description: String }

    let model: TorchModel
    let layout: HeadLayout
    let labels: [String]
    let tensorWidth: Int, tensorHeight: Int
    /// How long a warm forward took at load: the latency a sync-mode element adds.
    let warmForwardMilliseconds: Double
    private var decoder: HeadDecoder
    private var allowedCache: (classes: [String], allowed: [Bool]?) = ([], nil)
    /// The sync path's input, and the frame geometry whose padding is painted in it.
    private var input: UnsafeMutableBufferPointer<Float>?
    private var inputGeometry: InputGeometry?

    /// Loads, reads metadata, finds the head from a warm-up forward, resolves labels.
    init(_ config: DetectorConfiguration) throws {
        let model = try TorchModel(path: config.modelPath, device: config.device, threads: config.threads)
        var metadata = ModelMetadata()
        if let text = model.metadataText {
            do { metadata = try ModelMetadata.parse(text) } catch {
                throw SetupError(description: "\(config.modelPath): \(error)")
            }
        }
        var size: (width: Int, height: Int)
        var layout: HeadLayout
        var forwardMilliseconds = 0.0
        if let fixed = metadata.inputSize {
            size = fixed
            (layout, forwardMilliseconds) = try Detector.probe(model, size: size, forced: config.head)
        } else if config.inputSize > 0 {
            size = (config.inputSize, config.inputSize)
            (layout, forwardMilliseconds) = try Detector.probe(model, size: size, forced: config.head)
        } else {
            // Nothing says the size: try the family defaults (some exports only run at theirs),
            // then settle on the recognised family's own.
            let sides = config.head.map { [$0.defaultInputSize] } ?? [640, 352]
            var found: (Int, (HeadLayout, Double))? = nil
            var firstError: Error? = nil
            for side in sides {
                do {
                    found = (side, try Detector.probe(model, size: (side, side), forced: config.head))
                    break
                } catch {
                    firstError = firstError ?? error
                }
            }
            guard let (side, probed) = found else { throw firstError! }
            size = (side, side)
            (layout, forwardMilliseconds) = probed
            if layout.head.defaultInputSize != side {
                size = (layout.head.defaultInputSize, layout.head.defaultInputSize)
                (layout, forwardMilliseconds) = try Detector.probe(model, size: size, forced: layout.head)
            }
        }
        var labelsFile: (String, [String])? = nil
        if let path = config.labelsPath {
            labelsFile = (path, ClassLabels.parseLabelsFile(try readTextFile(path)))
        }
        do {
            labels = try ClassLabels.resolve(classCount: layout.classCount, metadataNames: metadata.names,
                                             labelsFile: labelsFile)
        } catch {
            throw SetupError(description: "\(error)")
        }
        self.model = model
        self.layout = layout
        tensorWidth = size.width
        tensorHeight = size.height
        decoder = HeadDecoder(layout: layout)
        warmForwardMilliseconds = forwardMilliseconds
    }

    /// Runs two forwards on a padding-only tensor (libtorch's first runs are slow) and
    /// recognises the head from the output shape.
    private static func probe(_ model: TorchModel, size: (width: Int, height: Int), forced: DetectionHead?) throws
        -> (HeadLayout, Double)
    {
        let tensor = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * size.width * size.height)
        defer { tensor.deallocate() }
        tensor.initialize(repeating: Preprocessor.padValue)
        var shape: [Int] = []
        var elapsed = 0.0
        do {
            var t0 = 0.0
            for _ in 0..<2 {
                t0 = monotonicMilliseconds()
                shape = try model.forward(tensor.baseAddress!, width: size.width, height: size.height).shape
            }
            elapsed = monotonicMilliseconds() - t0
        } catch {
            throw SetupError(description: "\(model.path): a forward at \(size.width)×\(size.height) failed: \(error). "
                             + "If the model has a fixed input size, set input-size to it.")
        }
        do { return (try HeadLayout.recognise(shape: shape, forced: forced), elapsed) } catch {
            throw SetupError(description: "\(model.path): \(error). Set head= if the model is one of those.")
        }
    }

    deinit { input?.deallocate() }

    var head: DetectionHead { layout.head }

    /// Preprocesses `frame` into the detector's own input (padding painted again when the
    /// geometry changes), then detects; also says how long the preprocessing took.
    func detect(_ frame: FramePlanes, with preprocessor: Preprocessor, settings: DecodeSettings) throws
        -> (outcome: Outcome, preprocessMilliseconds: Double) {
        let t0 = monotonicMilliseconds()
        if inputGeometry != preprocessor.geometry {
            input?.deallocate()
            input = preprocessor.makeTensor()
            inputGeometry = preprocessor.geometry
        }
        let tensor = input!.baseAddress!
        preprocessor.fill(tensor, from: frame)
        let elapsed = monotonicMilliseconds() - t0
        return (try detect(tensor, geometry: preprocessor.geometry, settings: settings), elapsed)
    }

    /// Class ids to keep for a `classes` list; unknown names are reported.
    static func allowedClasses(_ classes: [String], labels: [String]) -> (allowed: [Bool]?, unknown: [String]) {
        guard !classes.isEmpty else { return (nil, []) }
        var allowed = [Bool](repeating: false, count: labels.count)
        var unknown: [String] = []
        for name in classes {
            if let i = labels.firstIndex(of: name) { allowed[i] = true }
            else if let i = Int(name), i >= 0, i < labels.count { allowed[i] = true }
            else { unknown.append(name) }
        }
        return (allowed, unknown)
    }

    /// Frame-space detections and how long the forward and the decoding took.
    struct Outcome: Sendable {
        var detections: [LabeledDetection]
        var inferenceMilliseconds: Double
        var postprocessMilliseconds: Double
    }

    /// Forward, then decode and NMS.
    func detect(_ tensor: UnsafeMutablePointer<Float>, geometry: InputGeometry, settings: DecodeSettings) throws -> Outcome {
        let t0 = monotonicMilliseconds()
        let output = try model.forward(tensor, width: tensorWidth, height: tensorHeight)
        let t1 = monotonicMilliseconds()
        if allowedCache.classes != settings.classes {
            allowedCache = (settings.classes, Detector.allowedClasses(settings.classes, labels: labels).allowed)
        }
        let options = DecodeOptions(confidenceThreshold: Float(settings.confidenceThreshold),
                                    allowedClasses: allowedCache.allowed)
        let candidates = decoder.decode(output.data, tensorWidth: tensorWidth, tensorHeight: tensorHeight, options: options)
        let kept = NonMaxSuppression.apply(candidates, iouThreshold: settings.iouThreshold,
                                           maxDetections: settings.maxDetections)
        let result = kept.map { d -> LabeledDetection in
            var frameBox = d
            frameBox.box = geometry.toFrame(d.box)
            return LabeledDetection(frameBox, label: labels[d.classId], frameWidth: geometry.frameWidth,
                                    frameHeight: geometry.frameHeight)
        }.filter { $0.width > 0 && $0.height > 0 }
        return Outcome(detections: result, inferenceMilliseconds: t1 - t0,
                       postprocessMilliseconds: monotonicMilliseconds() - t1)
    }
}

func monotonicMilliseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
}

/// Reads a small text file without Foundation.
func readTextFile(_ path: String) throws -> String {
    guard let file = fopen(path, "rb") else {
        throw Detector.SetupError(description: "\(path): \(String(cString: strerror(errno))). Check the labels path.")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
        if n < chunk.count { break }
        if bytes.count > 16 << 20 { throw Detector.SetupError(description: "\(path): larger than 16 MiB, not a labels file") }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw Detector.SetupError(description: "\(path): not UTF-8 text")
    }
    return text
}
