import XCTest
import YoloCore

final class InputGeometryTests: XCTestCase {
    func testLetterboxOf720pInto640() {
        let g = InputGeometry(frameWidth: 1280, frameHeight: 720, tensorWidth: 640, tensorHeight: 640, fit: .letterbox)
        XCTAssertEqual(g.contentWidth, 640)
        XCTAssertEqual(g.contentHeight, 360)
        XCTAssertEqual(g.padX, 0)
        XCTAssertEqual(g.padY, 140)
        XCTAssertEqual(g.scaleX, 0.5)
        // A box at (100,190)-(200,240) in the tensor is (200,100)-(400,200) in the frame.
        XCTAssertEqual(g.toFrame(Box(x1: 100, y1: 190, x2: 200, y2: 240)), Box(x1: 200, y1: 100, x2: 400, y2: 200))
    }

    func testLetterboxOfOddSizeRoundsLikeUltralytics() {
        // r = min(64/101, 64/50) = 0.6337; 50 * r = 31.68 → 32 rows; pad (64-32)/2 = 16.
        let g = InputGeometry(frameWidth: 101, frameHeight: 50, tensorWidth: 64, tensorHeight: 64, fit: .letterbox)
        XCTAssertEqual(g.contentWidth, 64)
        XCTAssertEqual(g.contentHeight, 32)
        XCTAssertEqual(g.padX, 0)
        XCTAssertEqual(g.padY, 16)
        // An upscale: 320x240 into 640 → 640x480 with 80 rows above.
        let up = InputGeometry(frameWidth: 320, frameHeight: 240, tensorWidth: 640, tensorHeight: 640, fit: .letterbox)
        XCTAssertEqual(up.contentHeight, 480)
        XCTAssertEqual(up.padY, 80)
        XCTAssertEqual(up.toFrame(Box(x1: 0, y1: 80, x2: 640, y2: 560)), Box(x1: 0, y1: 0, x2: 320, y2: 240))
    }

    func testStretchScalesEachAxis() {
        let g = InputGeometry(frameWidth: 1280, frameHeight: 720, tensorWidth: 352, tensorHeight: 352, fit: .stretch)
        XCTAssertEqual(g.padX, 0)
        XCTAssertEqual(g.padY, 0)
        XCTAssertEqual(g.scaleX, 0.275)
        XCTAssertEqual(g.scaleY, 352.0 / 720.0)
        XCTAssertEqual(g.toFrame(Box(x1: 0, y1: 0, x2: 176, y2: 176)), Box(x1: 0, y1: 0, x2: 640, y2: 360))
    }

    func testBoxesAreClippedToTheFrame() {
        let g = InputGeometry(frameWidth: 1280, frameHeight: 720, tensorWidth: 640, tensorHeight: 640, fit: .letterbox)
        XCTAssertEqual(g.toFrame(Box(x1: -10, y1: 100, x2: 700, y2: 600)), Box(x1: 0, y1: 0, x2: 1280, y2: 720))
    }
}
