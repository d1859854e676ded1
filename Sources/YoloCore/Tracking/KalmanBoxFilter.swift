/// ByteTrack's Kalman filter over (centre x, centre y, aspect ratio w/h, height) and their
/// velocities per frame, with noise proportional to the box height: the same model and
/// weights as ByteTrack and Ultralytics, so tracks behave as their users expect.
public struct KalmanBoxFilter: Sendable {
    static let positionWeight = 1.0 / 20
    static let velocityWeight = 1.0 / 160

    /// State [cx, cy, a, h, vcx, vcy, va, vh].
    public private(set) var mean: [Double]
    /// 8×8, row-major.
    private var covariance: [Double]

    /// A new filter at `box`, at rest.
    public init(box: Box) {
        let m = KalmanBoxFilter.measurement(box)
        mean = m + [0, 0, 0, 0]
        let h = m[3], p = KalmanBoxFilter.positionWeight, v = KalmanBoxFilter.velocityWeight
        let std = [2 * p * h, 2 * p * h, 1e-2, 2 * p * h, 10 * v * h, 10 * v * h, 1e-5, 10 * v * h]
        covariance = KalmanBoxFilter.diagonal(std.map { $0 * $0 })
    }

    static func measurement(_ b: Box) -> [Double] {
        let h = max(b.height, 1e-6)
        return [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.width / h, h]
    }

    /// The box the state describes.
    public var box: Box { KalmanBoxFilter.box(of: mean) }

    static func box(of m: [Double]) -> Box {
        let h = m[3], w = m[2] * m[3]
        return Box(centerX: m[0], centerY: m[1], width: w, height: h)
    }

    /// Where the box will be `steps` frames ahead at constant velocity, without changing the
    /// state (for frames that get no detection).
    public func extrapolated(steps: Int, keepHeight: Bool = false) -> Box {
        var m = mean
        let s = Double(max(0, steps))
        for i in 0..<4 where !(keepHeight && i == 3) { m[i] += s * m[i + 4] }
        return KalmanBoxFilter.box(of: m)
    }

    /// One frame of constant-velocity motion; `holdHeight` stops the height changing (lost tracks).
    public mutating func predict(holdHeight: Bool = false) {
        if holdHeight { mean[7] = 0 }
        let h = mean[3], p = KalmanBoxFilter.positionWeight, v = KalmanBoxFilter.velocityWeight
        let std = [p * h, p * h, 1e-2, p * h, v * h, v * h, 1e-5, v * h]
        for i in 0..<4 { mean[i] += mean[i + 4] }
        // F P Fᵀ for F = [[I, I], [0, I]]: rows then columns add the velocity block.
        var c = covariance
        for r in 0..<4 { for k in 0..<8 { c[r * 8 + k] += c[(r + 4) * 8 + k] } }
        for k in 0..<8 { for col in 0..<4 { c[k * 8 + col] += c[k * 8 + col + 4] } }
        for i in 0..<8 { c[i * 8 + i] += std[i] * std[i] }
        covariance = c
    }

    /// Corrects the state with a measured box.
    public mutating func update(with box: Box) {
        let z = KalmanBoxFilter.measurement(box)
        let h = mean[3], p = KalmanBoxFilter.positionWeight
        let std = [p * h, p * h, 1e-1, p * h]
        // S = H P Hᵀ + R (the top-left 4×4 block plus measurement noise).
        var s = [Double](repeating: 0, count: 16)
        for r in 0..<4 { for c in 0..<4 { s[r * 4 + c] = covariance[r * 8 + c] } }
        for i in 0..<4 { s[i * 4 + i] += std[i] * std[i] }
        guard let sInverse = KalmanBoxFilter.inverse4(s) else { return }
        // K = P Hᵀ S⁻¹ (8×4).
        var gain = [Double](repeating: 0, count: 32)
        for r in 0..<8 {
            for c in 0..<4 {
                var sum = 0.0
                for k in 0..<4 { sum += covariance[r * 8 + k] * sInverse[k * 4 + c] }
                gain[r * 4 + c] = sum
            }
        }
        let innovation = (0..<4).map { z[$0] - mean[$0] }
        for r in 0..<8 {
            var sum = 0.0
            for k in 0..<4 { sum += gain[r * 4 + k] * innovation[k] }
            mean[r] += sum
        }
        // P -= K S Kᵀ, which equals K (H P).
        var next = covariance
        for r in 0..<8 {
            for c in 0..<8 {
                var sum = 0.0
                for k in 0..<4 { sum += gain[r * 4 + k] * covariance[k * 8 + c] }
                next[r * 8 + c] -= sum
            }
        }
        covariance = next
    }

    static func diagonal(_ values: [Double]) -> [Double] {
        var m = [Double](repeating: 0, count: values.count * values.count)
        for (i, v) in values.enumerated() { m[i * values.count + i] = v }
        return m
    }

    /// Gauss-Jordan inverse of a 4×4 matrix with partial pivoting; nil when singular.
    static func inverse4(_ matrix: [Double]) -> [Double]? {
        var a = matrix, inv = diagonal([1, 1, 1, 1])
        for col in 0..<4 {
            var pivot = col
            for r in col + 1..<4 where abs(a[r * 4 + col]) > abs(a[pivot * 4 + col]) { pivot = r }
            guard abs(a[pivot * 4 + col]) > 1e-12 else { return nil }
            if pivot != col {
                for k in 0..<4 {
                    a.swapAt(col * 4 + k, pivot * 4 + k)
                    inv.swapAt(col * 4 + k, pivot * 4 + k)
                }
            }
            let d = a[col * 4 + col]
            for k in 0..<4 {
                a[col * 4 + k] /= d
                inv[col * 4 + k] /= d
            }
            for r in 0..<4 where r != col {
                let f = a[r * 4 + col]
                guard f != 0 else { continue }
                for k in 0..<4 {
                    a[r * 4 + k] -= f * a[col * 4 + k]
                    inv[r * 4 + k] -= f * inv[col * 4 + k]
                }
            }
        }
        return inv
    }
}
