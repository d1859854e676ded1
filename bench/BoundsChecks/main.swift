#if canImport(Glibc)
import Glibc
#endif
import YoloCore

/// Per-frame YoloCore work on a 720p frame, for bounds-checks.sh to time with YoloCore
/// built -O and -Ounchecked: letterbox preprocessing (NV12 and BGRx), the YOLOv8 head
/// decode of an 84 × 8400 output, and NMS of its candidates. Prints one line of
/// milliseconds per frame (median of `frames` frames) for each.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
}

func medianMs(_ frames: Int, _ body: () -> Void) -> Double {
    body()  // warm up
    var times: [Double] = []
    for _ in 0..<frames {
        let start = now()
        body()
        times.append(now() - start)
    }
    return times.sorted()[frames / 2]
}

let frames = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 60
let (width, height) = (1280, 720)
let geometry = InputGeometry(frameWidth: width, frameHeight: height, tensorWidth: 640, tensorHeight: 640, fit: .letterbox)
var rng = SystemRandomNumberGenerator()
let luma = (0..<(width * height * 3 / 2)).map { _ in UInt8.random(in: 0...255, using: &rng) }
let packed = (0..<(width * height * 4)).map { _ in UInt8.random(in: 0...255, using: &rng) }
let rgb = Preprocessor(geometry: geometry, bgr: false)
let tensor = rgb.makeTensor()
var sink: Float = 0

let nv12 = luma.withUnsafeBufferPointer { p -> Double in
    let frame = FramePlanes(layout: .nv12, width: width, height: height, planes: [p.baseAddress!, p.baseAddress! + width * height],
                            strides: [width, width])
    return medianMs(frames) { rgb.fill(tensor.baseAddress!, from: frame); sink += tensor[1000] }
}
let bgrx = packed.withUnsafeBufferPointer { p -> Double in
    let frame = FramePlanes(layout: .bgrx, width: width, height: height, planes: [p.baseAddress!], strides: [width * 4])
    return medianMs(frames) { rgb.fill(tensor.baseAddress!, from: frame); sink += tensor[1000] }
}

// A YOLOv8 output with a crowd of candidates over the threshold: the NMS worst case the
// element meets with a low conf-threshold.
let layout = try! HeadLayout.recognise(shape: [1, 84, 8400])
var decoder = HeadDecoder(layout: layout)
let output = (0..<(84 * 8400)).map { i -> Float in i < 4 * 8400 ? Float.random(in: 0...640, using: &rng) : Float.random(in: 0...0.3, using: &rng) }
var candidates: [Detection] = []
let head = output.withUnsafeBufferPointer { p in
    medianMs(frames) {
        candidates = decoder.decode(p.baseAddress!, tensorWidth: 640, tensorHeight: 640, options: DecodeOptions(confidenceThreshold: 0.25))
    }
}
let nms = medianMs(frames) { sink += Float(NonMaxSuppression.apply(candidates, iouThreshold: 0.45, maxDetections: 300).count) }
print("nv12 \(nv12) bgrx \(bgrx) head \(head) nms \(nms) candidates \(candidates.count) sink \(sink.isFinite)")
