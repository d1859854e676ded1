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
    /// One blended source row (up to 4 floats a pixel) plus Y, U, V rows of the output width.
    private let rowBuffer: UnsafeMutableBufferPointer<Float>

    public var tensorCount: Int { 3 * geometry.tensorWidth * geometry.tensorHeight }

    public init(geometry: InputGeometry, bgr: Bool) {
        self.geometry = geometry
        self.bgr = bgr
        (x0, x1, wx, cx) = Preprocessor.axisTable(outCount: geometry.contentWidth, inCount: geometry.frameWidth,
                                                  scale: geometry.scaleX)
        (y0, y1, wy, cy) = Preprocessor.axisTable(outCount: geometry.contentHeight, inCount: geometry.frameHeight,
                                                  scale: geometry.scaleY)
        rowBuffer = .allocate(capacity: geometry.frameWidth * 4 + geometry.contentWidth * 3)
        rowBuffer.initialize(repeating: 0)
    }

    deinit { rowBuffer.deallocate() }

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

    /// Two passes per output row so the inner loops run over contiguous memory and
    /// vectorise: blend the two source rows vertically into `rowBuffer`, then pick and
    /// blend columns horizontally.
    private func fillPacked(_ frame: FramePlanes, _ packed: (bytesPerPixel: Int, r: Int, g: Int, b: Int),
                            _ red: UnsafeMutablePointer<Float>, _ green: UnsafeMutablePointer<Float>,
                            _ blue: UnsafeMutablePointer<Float>) {
        let bpp = packed.bytesPerPixel, ro = packed.r, go = packed.g, bo = packed.b
        let base = frame.planes[0], stride = frame.strides[0]
        let width = geometry.contentWidth, tensorWidth = geometry.tensorWidth
        let rowLength = geometry.frameWidth * bpp
        let row = rowBuffer.baseAddress!
        x0.withUnsafeBufferPointer { x0 in x1.withUnsafeBufferPointer { x1 in wx.withUnsafeBufferPointer { wx in
            for oy in 0..<geometry.contentHeight {
                blendRows(base + Int(y0[oy]) * stride, base + Int(y1[oy]) * stride, weight: wy[oy], count: rowLength,
                          into: row)
                let out = (oy + geometry.padY) * tensorWidth + geometry.padX
                for ox in 0..<width {
                    let a = Int(x0[ox]) * bpp, b = Int(x1[ox]) * bpp
                    let fx = wx[ox]
                    red[out + ox] = (row[a + ro] + (row[b + ro] - row[a + ro]) * fx) * Preprocessor.inverse255
                    green[out + ox] = (row[a + go] + (row[b + go] - row[a + go]) * fx) * Preprocessor.inverse255
                    blue[out + ox] = (row[a + bo] + (row[b + bo] - row[a + bo]) * fx) * Preprocessor.inverse255
                }
            }
        } } }
    }

    /// I420 (three planes) and NV12 (Y plane, interleaved UV plane): luma bilinear in two
    /// passes, chroma from the nearest 2×2 sample, then the colour matrix over the row.
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
        let row = rowBuffer.baseAddress!
        let y = rowBuffer.baseAddress! + geometry.frameWidth * 4
        let u = y + width, v = u + width
        let scale = m.yScale * Preprocessor.inverse255, offset = -m.yOffset * m.yScale * Preprocessor.inverse255
        let rV = m.rV * Preprocessor.inverse255, gU = m.gU * Preprocessor.inverse255
        let gV = m.gV * Preprocessor.inverse255, bU = m.bU * Preprocessor.inverse255
        x0.withUnsafeBufferPointer { x0 in x1.withUnsafeBufferPointer { x1 in wx.withUnsafeBufferPointer { wx in
        cx.withUnsafeBufferPointer { cx in
            for oy in 0..<geometry.contentHeight {
                blendRows(luma + Int(y0[oy]) * lumaStride, luma + Int(y1[oy]) * lumaStride, weight: wy[oy],
                          count: geometry.frameWidth, into: row)
                let uRow = uPlane + Int(cy[oy]) * uStride, vRow = vPlane + Int(cy[oy]) * vStride
                for ox in 0..<width {
                    let a = Int(x0[ox]), b = Int(x1[ox])
                    y[ox] = row[a] + (row[b] - row[a]) * wx[ox]
                    let c = Int(cx[ox]) * chromaStep
                    u[ox] = Float(uRow[c]) - 128
                    v[ox] = Float(vRow[c]) - 128
                }
                let out = (oy + geometry.padY) * tensorWidth + geometry.padX
                let r = red + out, g = green + out, bl = blue + out
                for ox in 0..<width {
                    let l = y[ox] * scale + offset
                    r[ox] = clamp01(l + rV * v[ox])
                    g[ox] = clamp01(l + gU * u[ox] + gV * v[ox])
                    bl[ox] = clamp01(l + bU * u[ox])
                }
            }
        } } } }
    }

    private static let inverse255: Float = 1.0 / 255.0

    /// out[i] = a[i] + (b[i] - a[i]) · weight, over contiguous bytes.
    @inline(__always)
    private func blendRows(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, weight: Float, count: Int,
                           into out: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let top = Float(a[i])
            out[i] = top + (Float(b[i]) - top) * weight
        }
    }
}

@inline(__always) private func clamp01(_ v: Float) -> Float { min(max(v, 0), 1) }
