/// Resizes and normalises a frame straight into a model's CHW float input: one pass over
/// the output pixels, bilinear (half-pixel centres, like cv2.INTER_LINEAR), colour
/// conversion only for the pixels sampled. Tables are built when the geometry changes,
/// so a steady stream allocates nothing.
public final class Preprocessor {
    public let geometry: InputGeometry
    public let bgr: Bool
    /// Letterbox padding, as in Ultralytics: grey 114.
    public static let padValue: Float = 114.0 / 255.0

    private let x0: [Int32], x1: [Int32], wx: [Float]
    private let y0: [Int32], y1: [Int32], wy: [Float]
    /// Nearest chroma column/row for each output column/row (4:2:0 layouts).
    private let cx: [Int32], cy: [Int32]

    public var tensorCount: Int { 3 * geometry.tensorWidth * geometry.tensorHeight }

    public init(geometry: InputGeometry, bgr: Bool) {
        self.geometry = geometry
        self.bgr = bgr
        (x0, x1, wx, cx) = Preprocessor.axisTable(outCount: geometry.contentWidth, inCount: geometry.frameWidth,
                                                  scale: geometry.scaleX)
        (y0, y1, wy, cy) = Preprocessor.axisTable(outCount: geometry.contentHeight, inCount: geometry.frameHeight,
                                                  scale: geometry.scaleY)
    }

    private static func axisTable(outCount: Int, inCount: Int, scale: Double) -> ([Int32], [Int32], [Float], [Int32]) {
        var lo = [Int32](repeating: 0, count: outCount), hi = lo, nearChroma = lo
        var weight = [Float](repeating: 0, count: outCount)
        let chromaCount = (inCount + 1) / 2
        for o in 0..<outCount {
            let f = max(0, (Double(o) + 0.5) / scale - 0.5)
            let i = min(Int(f), inCount - 1)
            lo[o] = Int32(i)
            hi[o] = Int32(min(i + 1, inCount - 1))
            weight[o] = Float(f - Double(i))
            nearChroma[o] = Int32(min(Int(f + 0.5) / 2, chromaCount - 1))
        }
        return (lo, hi, weight, nearChroma)
    }

    /// A tensor buffer for this geometry with the padding already painted; fill() only
    /// writes the picture area, so the padding stays.
    public func makeTensor() -> UnsafeMutableBufferPointer<Float> {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: tensorCount)
        buffer.initialize(repeating: Preprocessor.padValue)
        return buffer
    }

    /// Writes `frame` (which must have the geometry's frame size) into `tensor`.
    public func fill(_ tensor: UnsafeMutablePointer<Float>, from frame: FramePlanes) {
        precondition(frame.width == geometry.frameWidth && frame.height == geometry.frameHeight)
        let planeSize = geometry.tensorWidth * geometry.tensorHeight
        // Output planes in the model's channel order.
        let red = tensor + (bgr ? 2 : 0) * planeSize
        let green = tensor + planeSize
        let blue = tensor + (bgr ? 0 : 2) * planeSize
        if let packed = frame.layout.packed {
            fillPacked(frame, packed, red, green, blue)
        } else {
            fillYUV420(frame, red, green, blue)
        }
    }

    private func fillPacked(_ frame: FramePlanes, _ packed: (bytesPerPixel: Int, r: Int, g: Int, b: Int),
                            _ red: UnsafeMutablePointer<Float>, _ green: UnsafeMutablePointer<Float>,
                            _ blue: UnsafeMutablePointer<Float>) {
        let bpp = packed.bytesPerPixel, ro = packed.r, go = packed.g, bo = packed.b
        let base = frame.planes[0], stride = frame.strides[0]
        let width = geometry.contentWidth, tensorWidth = geometry.tensorWidth
        let inv: Float = 1.0 / 255.0
        x0.withUnsafeBufferPointer { x0 in x1.withUnsafeBufferPointer { x1 in wx.withUnsafeBufferPointer { wx in
            for oy in 0..<geometry.contentHeight {
                let row0 = base + Int(y0[oy]) * stride, row1 = base + Int(y1[oy]) * stride
                let fy = wy[oy], gy = 1 - fy
                let out = (oy + geometry.padY) * tensorWidth + geometry.padX
                for ox in 0..<width {
                    let a = Int(x0[ox]) * bpp, b = Int(x1[ox]) * bpp
                    let fx = wx[ox], gx = 1 - fx
                    let w00 = gx * gy * inv, w01 = fx * gy * inv, w10 = gx * fy * inv, w11 = fx * fy * inv
                    red[out + ox] = Float(row0[a + ro]) * w00 + Float(row0[b + ro]) * w01
                        + Float(row1[a + ro]) * w10 + Float(row1[b + ro]) * w11
                    green[out + ox] = Float(row0[a + go]) * w00 + Float(row0[b + go]) * w01
                        + Float(row1[a + go]) * w10 + Float(row1[b + go]) * w11
                    blue[out + ox] = Float(row0[a + bo]) * w00 + Float(row0[b + bo]) * w01
                        + Float(row1[a + bo]) * w10 + Float(row1[b + bo]) * w11
                }
            }
        } } }
    }

    /// I420 (three planes) and NV12 (Y plane, interleaved UV plane): luma bilinear,
    /// chroma from the nearest 2×2 sample.
    private func fillYUV420(_ frame: FramePlanes, _ red: UnsafeMutablePointer<Float>,
                            _ green: UnsafeMutablePointer<Float>, _ blue: UnsafeMutablePointer<Float>) {
        let m = frame.matrix
        let luma = frame.planes[0], lumaStride = frame.strides[0]
        let interleaved = frame.layout == .nv12
        let uPlane = frame.planes[1], uStride = frame.strides[1]
        let vPlane = interleaved ? frame.planes[1] + 1 : frame.planes[2]
        let vStride = interleaved ? frame.strides[1] : frame.strides[2]
        let chromaStep = interleaved ? 2 : 1
        let width = geometry.contentWidth, tensorWidth = geometry.tensorWidth
        let inv: Float = 1.0 / 255.0
        x0.withUnsafeBufferPointer { x0 in x1.withUnsafeBufferPointer { x1 in wx.withUnsafeBufferPointer { wx in
        cx.withUnsafeBufferPointer { cx in
            for oy in 0..<geometry.contentHeight {
                let row0 = luma + Int(y0[oy]) * lumaStride, row1 = luma + Int(y1[oy]) * lumaStride
                let uRow = uPlane + Int(cy[oy]) * uStride, vRow = vPlane + Int(cy[oy]) * vStride
                let fy = wy[oy], gy = 1 - fy
                let out = (oy + geometry.padY) * tensorWidth + geometry.padX
                for ox in 0..<width {
                    let a = Int(x0[ox]), b = Int(x1[ox])
                    let fx = wx[ox], gx = 1 - fx
                    let yv = Float(row0[a]) * (gx * gy) + Float(row0[b]) * (fx * gy)
                        + Float(row1[a]) * (gx * fy) + Float(row1[b]) * (fx * fy)
                    let c = Int(cx[ox]) * chromaStep
                    let u = Float(uRow[c]) - 128, v = Float(vRow[c]) - 128
                    let y = (yv - m.yOffset) * m.yScale
                    red[out + ox] = clamp01((y + m.rV * v) * inv)
                    green[out + ox] = clamp01((y + m.gU * u + m.gV * v) * inv)
                    blue[out + ox] = clamp01((y + m.bU * u) * inv)
                }
            }
        } } } }
    }
}

@inline(__always) private func clamp01(_ v: Float) -> Float { min(max(v, 0), 1) }
