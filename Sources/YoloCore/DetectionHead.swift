#if canImport(Glibc)
import Glibc
#endif

/// The output layouts swiftyolo decodes, recognised by shape.
public enum DetectionHead: String, CaseIterable, Sendable {
    /// YOLOv8/YOLO11: `[1, 4+nc, N]`, cx cy w h in input pixels then class scores.
    case yolov8
    /// YOLOv5/v7: `[1, N, 5+nc]`, cx cy w h, objectness, class scores.
    case yolov5
    /// FastestDet: `[1, 5+nc, H, W]`, see FastestDetDecoder.
    case fastestdet

    /// The family's usual input side when neither metadata nor the user says.
    public var defaultInputSize: Int {
        switch self {
        case .yolov8, .yolov5: return 640
        case .fastestdet: return 352
        }
    }

    /// YOLO families are trained on letterboxed frames; FastestDet on plainly resized ones.
    public var fit: InputGeometry.Fit { self == .fastestdet ? .stretch : .letterbox }

    /// RGB for Ultralytics models, BGR for FastestDet (trained with OpenCV).
    public var wantsBGR: Bool { self == .fastestdet }
}

/// A head and the number of classes it predicts, from an output shape.
public struct HeadLayout: Equatable, Sendable {
    public let head: DetectionHead
    public let classCount: Int
    /// Predictions (YOLO) or grid cells (FastestDet).
    public let predictionCount: Int
    public let gridWidth: Int, gridHeight: Int

    public init(head: DetectionHead, classCount: Int, predictionCount: Int, gridWidth: Int, gridHeight: Int) {
        self.head = head
        self.classCount = classCount
        self.predictionCount = predictionCount
        self.gridWidth = gridWidth
        self.gridHeight = gridHeight
    }

    public struct ShapeError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Recognises `shape` (batch of one) as one of the heads, or as `forced` if given.
    public static func recognise(shape: [Int], forced: DetectionHead? = nil) throws -> HeadLayout {
        var dims = shape
        if dims.count == 4 || dims.count == 3 {
            guard dims[0] == 1 else { throw ShapeError(description: "output shape \(shape) has batch \(dims[0]), expected 1") }
            dims.removeFirst()
        }
        let text = "[\(shape.map(String.init).joined(separator: ","))]"
        if dims.count == 3 {
            let layout = HeadLayout(head: .fastestdet, classCount: dims[0] - 5, predictionCount: dims[1] * dims[2],
                                    gridWidth: dims[2], gridHeight: dims[1])
            guard forced == nil || forced == .fastestdet, layout.classCount >= 1 else {
                throw ShapeError(description: "output shape \(text) does not fit head \(forced?.rawValue ?? "fastestdet") "
                                 + "(FastestDet gives [1,5+nc,H,W])")
            }
            return layout
        }
        guard dims.count == 2 else {
            throw ShapeError(description: "output shape \(text) matches no known head: expected YOLOv8 [1,4+nc,N], "
                             + "YOLOv5 [1,N,5+nc] or FastestDet [1,5+nc,H,W]")
        }
        // YOLOv8 needs ≥ 5 channel rows, YOLOv5 ≥ 6 columns; when both fit, predictions
        // outnumber channels.
        let v8Fits = dims[0] >= 5, v5Fits = dims[1] >= 6
        guard forced != nil || v8Fits || v5Fits else {
            throw ShapeError(description: "output shape \(text) matches no known head: expected YOLOv8 [1,4+nc,N], "
                             + "YOLOv5 [1,N,5+nc] or FastestDet [1,5+nc,H,W]")
        }
        let head = forced ?? (v8Fits && (!v5Fits || dims[0] < dims[1]) ? .yolov8 : .yolov5)
        switch head {
        case .yolov8:
            guard dims[0] >= 5 else { throw ShapeError(description: "output shape \(text) is too narrow for YOLOv8 [1,4+nc,N]") }
            return HeadLayout(head: .yolov8, classCount: dims[0] - 4, predictionCount: dims[1], gridWidth: 0, gridHeight: 0)
        case .yolov5:
            guard dims[1] >= 6 else { throw ShapeError(description: "output shape \(text) is too narrow for YOLOv5 [1,N,5+nc]") }
            return HeadLayout(head: .yolov5, classCount: dims[1] - 5, predictionCount: dims[0], gridWidth: 0, gridHeight: 0)
        case .fastestdet:
            throw ShapeError(description: "output shape \(text) does not fit head fastestdet (FastestDet gives [1,5+nc,H,W])")
        }
    }
}

/// What decoding keeps: a score floor and, optionally, only some classes.
public struct DecodeOptions: Sendable {
    public var confidenceThreshold: Float
    /// nil = every class.
    public var allowedClasses: [Bool]?

    public init(confidenceThreshold: Float, allowedClasses: [Bool]? = nil) {
        self.confidenceThreshold = confidenceThreshold
        self.allowedClasses = allowedClasses
    }

    @inline(__always) func allows(_ classId: Int) -> Bool {
        guard let allowed = allowedClasses else { return true }
        return classId < allowed.count && allowed[classId]
    }
}

/// Turns a raw output tensor into scored boxes in input-tensor pixels (before NMS).
public struct HeadDecoder {
    public let layout: HeadLayout
    private var bestScore: [Float]
    private var bestClass: [Int32]

    public init(layout: HeadLayout) {
        self.layout = layout
        // Scratch reused every frame so decoding allocates only its results.
        bestScore = Array(repeating: 0, count: layout.head == .yolov8 ? layout.predictionCount : 0)
        bestClass = Array(repeating: 0, count: layout.head == .yolov8 ? layout.predictionCount : 0)
    }

    public mutating func decode(_ output: UnsafePointer<Float>, tensorWidth: Int, tensorHeight: Int,
                                options: DecodeOptions) -> [Detection] {
        switch layout.head {
        case .yolov8: return decodeYoloV8(output, options: options)
        case .yolov5: return decodeYoloV5(output, options: options)
        case .fastestdet: return decodeFastestDet(output, tensorWidth: tensorWidth, tensorHeight: tensorHeight, options: options)
        }
    }

    /// Rows are channels, so scan class by class along contiguous memory.
    private mutating func decodeYoloV8(_ out: UnsafePointer<Float>, options: DecodeOptions) -> [Detection] {
        let n = layout.predictionCount
        var results: [Detection] = []
        bestScore.withUnsafeMutableBufferPointer { best in
            bestClass.withUnsafeMutableBufferPointer { cls in
                for i in 0..<n { best[i] = -1; cls[i] = -1 }
                for c in 0..<layout.classCount where options.allows(c) {
                    let row = out + (4 + c) * n
                    for i in 0..<n where row[i] > best[i] {
                        best[i] = row[i]
                        cls[i] = Int32(c)
                    }
                }
                for i in 0..<n where cls[i] >= 0 && best[i] >= options.confidenceThreshold {
                    let box = Box(centerX: Double(out[i]), centerY: Double(out[n + i]),
                                  width: Double(out[2 * n + i]), height: Double(out[3 * n + i]))
                    results.append(Detection(box: box, classId: Int(cls[i]), confidence: Double(best[i])))
                }
            }
        }
        return results
    }

    private func decodeYoloV5(_ out: UnsafePointer<Float>, options: DecodeOptions) -> [Detection] {
        let stride = 5 + layout.classCount
        var results: [Detection] = []
        for i in 0..<layout.predictionCount {
            let row = out + i * stride
            let objectness = row[4]
            guard objectness >= options.confidenceThreshold else { continue }
            var best: Float = -1, bestClass = -1
            for c in 0..<layout.classCount where options.allows(c) && row[5 + c] > best {
                best = row[5 + c]
                bestClass = c
            }
            let score = best * objectness
            guard bestClass >= 0, score >= options.confidenceThreshold else { continue }
            let box = Box(centerX: Double(row[0]), centerY: Double(row[1]), width: Double(row[2]), height: Double(row[3]))
            results.append(Detection(box: box, classId: bestClass, confidence: Double(score)))
        }
        return results
    }

    /// FastestDet: channel 0 objectness, 1–4 box regression relative to the cell, 5… class
    /// probabilities; score = obj^0.6 · cls^0.4; boxes normalised to the whole picture.
    private func decodeFastestDet(_ out: UnsafePointer<Float>, tensorWidth: Int, tensorHeight: Int,
                                  options: DecodeOptions) -> [Detection] {
        let h = layout.gridHeight, w = layout.gridWidth, plane = h * w
        var results: [Detection] = []
        for gy in 0..<h {
            for gx in 0..<w {
                let cell = gy * w + gx
                let objectness = out[cell]
                var best: Float = -1, bestClass = -1
                for c in 0..<layout.classCount where options.allows(c) && out[(5 + c) * plane + cell] > best {
                    best = out[(5 + c) * plane + cell]
                    bestClass = c
                }
                guard bestClass >= 0, objectness > 0, best > 0 else { continue }
                let score = Float(pow(Double(objectness), 0.6) * pow(Double(best), 0.4))
                guard score >= options.confidenceThreshold else { continue }
                let cx = (tanh(Double(out[plane + cell])) + Double(gx)) / Double(w)
                let cy = (tanh(Double(out[2 * plane + cell])) + Double(gy)) / Double(h)
                let bw = sigmoid(Double(out[3 * plane + cell]))
                let bh = sigmoid(Double(out[4 * plane + cell]))
                let box = Box(centerX: cx * Double(tensorWidth), centerY: cy * Double(tensorHeight),
                              width: bw * Double(tensorWidth), height: bh * Double(tensorHeight))
                results.append(Detection(box: box, classId: bestClass, confidence: Double(score)))
            }
        }
        return results
    }
}

@inline(__always) func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
