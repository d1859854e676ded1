import XCTest
import YoloCore

final class HeadDecoderTests: XCTestCase {
    private func decode(_ data: [Float], shape: [Int], head: DetectionHead? = nil, threshold: Float = 0.25,
                        allowed: [Bool]? = nil, tensor: Int = 640) throws -> [Detection] {
        var decoder = HeadDecoder(layout: try HeadLayout.recognise(shape: shape, forced: head))
        return data.withUnsafeBufferPointer {
            decoder.decode($0.baseAddress!, tensorWidth: tensor, tensorHeight: tensor,
                           options: DecodeOptions(confidenceThreshold: threshold, allowedClasses: allowed))
        }
    }

    func testRecognisesHeadsFromShapes() throws {
        XCTAssertEqual(try HeadLayout.recognise(shape: [1, 84, 8400]),
                       HeadLayout(head: .yolov8, classCount: 80, predictionCount: 8400, gridWidth: 0, gridHeight: 0))
        XCTAssertEqual(try HeadLayout.recognise(shape: [1, 25200, 85]).head, .yolov5)
        XCTAssertEqual(try HeadLayout.recognise(shape: [1, 25200, 85]).classCount, 80)
        let fd = try HeadLayout.recognise(shape: [1, 85, 22, 22])
        XCTAssertEqual(fd.head, .fastestdet)
        XCTAssertEqual(fd.classCount, 80)
        XCTAssertEqual(fd.predictionCount, 484)
        XCTAssertThrowsError(try HeadLayout.recognise(shape: [1, 4, 5])) { XCTAssertTrue("\($0)".contains("matches no known head")) }
        XCTAssertThrowsError(try HeadLayout.recognise(shape: [2, 84, 8400])) { XCTAssertTrue("\($0)".contains("batch")) }
        XCTAssertThrowsError(try HeadLayout.recognise(shape: [1, 84, 8400], forced: .fastestdet))
        XCTAssertThrowsError(try HeadLayout.recognise(shape: [1, 3, 8400], forced: .yolov8))
    }

    func testForcedHeadOverridesTheShapeGuess() throws {
        // [1, 6, 3] looks like YOLOv8 (2 classes, 3 predictions); forced yolov5 reads it as 6 rows of 3? No:
        // yolov5 needs 5+nc ≥ 6 columns, so [1, 6, 7] forced to yolov8 reads 2 classes × 7 predictions.
        XCTAssertEqual(try HeadLayout.recognise(shape: [1, 6, 7], forced: .yolov5).classCount, 2)
        XCTAssertEqual(try HeadLayout.recognise(shape: [1, 6, 7], forced: .yolov8).predictionCount, 7)
    }

    func testYoloV8PicksTheBestClassPerPrediction() throws {
        // 2 classes, 3 predictions; rows: cx, cy, w, h, class0, class1.
        let data: [Float] = [
            100, 200, 300,   // cx
            50, 60, 70,      // cy
            20, 40, 10,      // w
            10, 20, 10,      // h
            0.9, 0.1, 0.2,   // class 0
            0.3, 0.8, 0.1,   // class 1
        ]
        let d = try decode(data, shape: [1, 6, 3])
        XCTAssertEqual(d.count, 2)  // the third's best score 0.2 is under 0.25
        XCTAssertEqual(d[0], Detection(box: Box(x1: 90, y1: 45, x2: 110, y2: 55), classId: 0, confidence: Double(Float(0.9))))
        XCTAssertEqual(d[1], Detection(box: Box(x1: 180, y1: 50, x2: 220, y2: 70), classId: 1, confidence: Double(Float(0.8))))
        // Only class 1 allowed: prediction 0 now scores 0.3 as class 1.
        let only1 = try decode(data, shape: [1, 6, 3], allowed: [false, true])
        XCTAssertEqual(only1.map(\.classId), [1, 1])
        XCTAssertEqual(only1[0].confidence, Double(Float(0.3)))
    }

    func testYoloV5MultipliesObjectness() throws {
        // 2 predictions, 2 classes: cx cy w h obj c0 c1.
        let data: [Float] = [
            10, 20, 4, 6, 0.5, 0.9, 0.1,   // 0.45 as class 0
            30, 40, 2, 2, 0.2, 0.1, 1.0,   // objectness under threshold
        ]
        let d = try decode(data, shape: [1, 2, 7])
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d[0].box, Box(x1: 8, y1: 17, x2: 12, y2: 23))
        XCTAssertEqual(d[0].confidence, Double(Float(0.5) * Float(0.9)), accuracy: 1e-9)
    }

    func testFastestDetCellDecoding() throws {
        // 2 classes on a 2x2 grid: channels obj, r1..r4, c0, c1; planes of 4 cells.
        var data = [Float](repeating: 0, count: 7 * 4)
        let cell = 1  // gy = 0, gx = 1
        data[0 * 4 + cell] = 1          // objectness
        data[6 * 4 + cell] = 1          // class 1 probability
        data[5 * 4 + cell] = 0.5
        // r1..r4 = 0: cx = (tanh 0 + 1)/2 = 0.5, cy = 0, w = h = sigmoid 0 = 0.5 of a 352 tensor.
        let d = try decode(data, shape: [1, 7, 2, 2], tensor: 352)
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d[0].classId, 1)
        XCTAssertEqual(d[0].confidence, 1, accuracy: 1e-6)
        XCTAssertEqual(d[0].box, Box(x1: 88, y1: -88, x2: 264, y2: 88))
        // score = obj^0.6 · cls^0.4: obj 0.5, cls 0.5 → 0.5.
        data[0 * 4 + cell] = 0.5
        data[6 * 4 + cell] = 0.5
        data[5 * 4 + cell] = 0.25
        XCTAssertEqual(try decode(data, shape: [1, 7, 2, 2], tensor: 352)[0].confidence, 0.5, accuracy: 1e-6)
    }
}
