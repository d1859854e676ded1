import XCTest
import YoloCore

final class PreprocessorTests: XCTestCase {
    /// Runs the preprocessor on one plane-set and returns the CHW tensor.
    private func run(_ layout: PixelLayout, width: Int, height: Int, planes: [[UInt8]], strides: [Int], tensor: Int,
                     fit: InputGeometry.Fit = .letterbox, bgr: Bool = false, matrix: YUVMatrix = .bt601) -> [Float] {
        let geometry = InputGeometry(frameWidth: width, frameHeight: height, tensorWidth: tensor, tensorHeight: tensor, fit: fit)
        let pre = Preprocessor(geometry: geometry, bgr: bgr)
        let out = pre.makeTensor()
        defer { out.deallocate() }
        var pointers: [UnsafeMutablePointer<UInt8>] = []
        for p in planes {
            let ptr = UnsafeMutablePointer<UInt8>.allocate(capacity: p.count)
            ptr.initialize(from: p, count: p.count)
            pointers.append(ptr)
        }
        defer { pointers.forEach { $0.deallocate() } }
        pre.fill(out.baseAddress!, from: FramePlanes(layout: layout, width: width, height: height,
                                                     planes: pointers.map { UnsafePointer($0) }, strides: strides,
                                                     matrix: matrix))
        return Array(out)
    }

    func testSameSizeCopiesPixelsAndPadsWith114() {
        // 4x2 RGB, distinct values per pixel; tensor 4x4 → one padding row above and below.
        var rgb: [UInt8] = []
        for i in 0..<8 { rgb += [UInt8(i * 10), UInt8(i * 10 + 1), UInt8(i * 10 + 2)] }
        let t = run(.rgb, width: 4, height: 2, planes: [rgb], strides: [12], tensor: 4)
        let pad: Float = 114 / 255
        for c in 0..<3 {
            for x in 0..<4 {
                XCTAssertEqual(t[c * 16 + x], pad)           // row 0 padding
                XCTAssertEqual(t[c * 16 + 12 + x], pad)      // row 3 padding
            }
        }
        // Pixel (x=2, y=1) is index 6: R=60, G=61, B=62, at tensor row 2.
        XCTAssertEqual(t[0 * 16 + 2 * 4 + 2], 60 / 255, accuracy: 1e-6)
        XCTAssertEqual(t[1 * 16 + 2 * 4 + 2], 61 / 255, accuracy: 1e-6)
        XCTAssertEqual(t[2 * 16 + 2 * 4 + 2], 62 / 255, accuracy: 1e-6)
    }

    func testPackedLayoutsAndBGROutputOrder() {
        // One pixel R=10 G=20 B=30 in each packed layout, 1x1 into a 1x1 tensor.
        let cases: [(PixelLayout, [UInt8])] = [
            (.rgb, [10, 20, 30]), (.bgr, [30, 20, 10]), (.rgbx, [10, 20, 30, 0]), (.bgrx, [30, 20, 10, 0]),
            (.rgba, [10, 20, 30, 255]), (.bgra, [30, 20, 10, 255]),
        ]
        for (layout, pixel) in cases {
            let rgbOut = run(layout, width: 1, height: 1, planes: [pixel], strides: [pixel.count], tensor: 1)
            XCTAssertEqual(rgbOut.map { ($0 * 255).rounded() }, [10, 20, 30], "\(layout)")
            let bgrOut = run(layout, width: 1, height: 1, planes: [pixel], strides: [pixel.count], tensor: 1, bgr: true)
            XCTAssertEqual(bgrOut.map { ($0 * 255).rounded() }, [30, 20, 10], "\(layout) as BGR")
        }
    }

    func testHalvingAveragesNeighbours() {
        // 4x4 grey ramp by column (0, 40, 80, 120) into 2x2: columns average to 20 and 100.
        let row: [UInt8] = [0, 0, 0, 40, 40, 40, 80, 80, 80, 120, 120, 120]
        let t = run(.rgb, width: 4, height: 4, planes: [row + row + row + row], strides: [12], tensor: 2)
        XCTAssertEqual(t[0] * 255, 20, accuracy: 1e-3)
        XCTAssertEqual(t[1] * 255, 100, accuracy: 1e-3)
    }

    func testStridePaddingIsIgnored() {
        // 2x2 RGB with 8-byte rows (2 bytes of padding set to 255).
        let data: [UInt8] = [1, 2, 3, 4, 5, 6, 255, 255, 7, 8, 9, 10, 11, 12, 255, 255]
        let t = run(.rgb, width: 2, height: 2, planes: [data], strides: [8], tensor: 2)
        XCTAssertEqual(t[0..<4].map { ($0 * 255).rounded() }, [1, 4, 7, 10])
    }

    func testYUV420LimitedRangeToRGB() {
        // BT.601 limited: Y=235 U=V=128 is white, Y=16 is black; Y=81 U=90 V=240 is about pure red.
        let white = run(.i420, width: 2, height: 2, planes: [[235, 235, 235, 235], [128], [128]], strides: [2, 1, 1], tensor: 2)
        XCTAssertEqual(white.map { ($0 * 255).rounded() }, Array(repeating: 255, count: 12))
        let black = run(.nv12, width: 2, height: 2, planes: [[16, 16, 16, 16], [128, 128]], strides: [2, 2], tensor: 2)
        XCTAssertEqual(black.map { ($0 * 255).rounded() }, Array(repeating: 0, count: 12))
        let red = run(.nv12, width: 2, height: 2, planes: [[81, 81, 81, 81], [90, 240]], strides: [2, 2], tensor: 2)
        XCTAssertEqual(red[0] * 255, 255, accuracy: 2)
        XCTAssertEqual(red[4] * 255, 0, accuracy: 2)
        XCTAssertEqual(red[8] * 255, 0, accuracy: 2)
        // I420 with the same red: U and V in separate planes.
        let redI420 = run(.i420, width: 2, height: 2, planes: [[81, 81, 81, 81], [90], [240]], strides: [2, 1, 1], tensor: 2)
        XCTAssertEqual(redI420, red)
    }
}
