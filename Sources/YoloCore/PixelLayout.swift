/// The raw video layouts swiftyolo reads directly, named as in GStreamer caps.
public enum PixelLayout: String, CaseIterable, Sendable {
    case rgb = "RGB", bgr = "BGR", rgbx = "RGBx", bgrx = "BGRx", rgba = "RGBA", bgra = "BGRA"
    case i420 = "I420", nv12 = "NV12"

    /// Bytes per pixel and where R, G, B sit, for packed layouts.
    var packed: (bytesPerPixel: Int, r: Int, g: Int, b: Int)? {
        switch self {
        case .rgb: return (3, 0, 1, 2)
        case .bgr: return (3, 2, 1, 0)
        case .rgbx, .rgba: return (4, 0, 1, 2)
        case .bgrx, .bgra: return (4, 2, 1, 0)
        case .i420, .nv12: return nil
        }
    }

    public var planeCount: Int {
        switch self {
        case .i420: return 3
        case .nv12: return 2
        default: return 1
        }
    }
}

/// Y'CbCr → R'G'B' coefficients for one matrix (Kr, Kb) and range.
public struct YUVMatrix: Equatable, Sendable {
    public let yScale: Float, yOffset: Float
    public let rV: Float, gU: Float, gV: Float, bU: Float

    public init(kr: Double, kb: Double, fullRange: Bool) {
        let kg = 1 - kr - kb
        let yScale = fullRange ? 1.0 : 255.0 / 219.0
        let cScale = fullRange ? 1.0 : 255.0 / 224.0
        self.yScale = Float(yScale)
        yOffset = fullRange ? 0 : 16
        rV = Float(2 * (1 - kr) * cScale)
        gU = Float(-2 * (1 - kb) * kb / kg * cScale)
        gV = Float(-2 * (1 - kr) * kr / kg * cScale)
        bU = Float(2 * (1 - kb) * cScale)
    }

    public static let bt601 = YUVMatrix(kr: 0.299, kb: 0.114, fullRange: false)
    public static let bt709 = YUVMatrix(kr: 0.2126, kb: 0.0722, fullRange: false)
}

/// A frame as it lies in memory: plane pointers and strides, as GStreamer maps it.
public struct FramePlanes: @unchecked Sendable {  // a read-only view of a mapped frame; whoever mapped it waits for every use
    public var layout: PixelLayout
    public var width: Int, height: Int
    public var planes: [UnsafePointer<UInt8>]
    public var strides: [Int]
    public var matrix: YUVMatrix

    public init(layout: PixelLayout, width: Int, height: Int, planes: [UnsafePointer<UInt8>], strides: [Int],
                matrix: YUVMatrix = .bt601) {
        precondition(planes.count >= layout.planeCount && strides.count >= layout.planeCount)
        self.layout = layout
        self.width = width
        self.height = height
        self.planes = planes
        self.strides = strides
        self.matrix = matrix
    }
}
