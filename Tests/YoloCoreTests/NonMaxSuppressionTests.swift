import XCTest
import YoloCore

final class NonMaxSuppressionTests: XCTestCase {
    private func det(_ x: Double, _ cls: Int, _ score: Double) -> Detection {
        Detection(box: Box(x1: x, y1: 0, x2: x + 10, y2: 10), classId: cls, confidence: score)
    }

    func testSuppressesOverlapsOfTheSameClassOnly() {
        // Shift 2 on a 10-wide box: IoU = 80/120 = 0.667 > 0.45. Shift 6: IoU = 40/160 = 0.25.
        let kept = NonMaxSuppression.apply([det(2, 0, 0.8), det(0, 0, 0.9), det(0, 1, 0.7), det(6, 0, 0.6)],
                                           iouThreshold: 0.45, maxDetections: 100)
        XCTAssertEqual(kept, [det(0, 0, 0.9), det(0, 1, 0.7), det(6, 0, 0.6)])
    }

    func testCapsTheCount() {
        let many = (0..<10).map { det(Double($0) * 20, 0, Double(50 + $0) / 100) }
        let kept = NonMaxSuppression.apply(many, iouThreshold: 0.45, maxDetections: 3)
        XCTAssertEqual(kept.map(\.confidence), [0.59, 0.58, 0.57])
        XCTAssertEqual(NonMaxSuppression.apply(many, iouThreshold: 0.45, maxDetections: 0), [])
    }

    func testIoU() {
        XCTAssertEqual(Box(x1: 0, y1: 0, x2: 10, y2: 10).iou(Box(x1: 5, y1: 0, x2: 15, y2: 10)), 50.0 / 150.0)
        XCTAssertEqual(Box(x1: 0, y1: 0, x2: 10, y2: 10).iou(Box(x1: 20, y1: 20, x2: 30, y2: 30)), 0)
    }
}
