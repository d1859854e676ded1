import XCTest
import YoloCore

final class LabelsAndMetadataTests: XCTestCase {
    func testUltralyticsMetadata() throws {
        let m = try ModelMetadata.parse(#"{"description": "Ultralytics YOLOv8n", "stride": 32, "task": "detect", "imgsz": [384, 640], "names": {"0": "person", "1": "bicycle"}}"#)
        XCTAssertEqual(m.inputSize?.width, 640)
        XCTAssertEqual(m.inputSize?.height, 384)
        XCTAssertEqual(m.stride, 32)
        XCTAssertEqual(m.names, ["person", "bicycle"])
        XCTAssertEqual(try ModelMetadata.parse(#"{"imgsz": 320, "names": ["a", "b"]}"#).names, ["a", "b"])
        XCTAssertEqual(try ModelMetadata.parse(#"{"imgsz": 320}"#).inputSize?.width, 320)
        XCTAssertNil(try ModelMetadata.parse("{}").inputSize)
    }

    func testBadMetadataIsRefused() {
        XCTAssertThrowsError(try ModelMetadata.parse("not json"))
        XCTAssertThrowsError(try ModelMetadata.parse(#"{"imgsz": [0, 640]}"#))
        XCTAssertThrowsError(try ModelMetadata.parse(#"{"names": {"0": "a", "2": "c"}}"#))
        XCTAssertThrowsError(try ModelMetadata.parse(#"{"names": {"x": "a"}}"#))
    }

    /// What a hostile or broken export can put in config.txt: each is refused with the cause,
    /// never trusted (an id of Int.max once overflowed, a 100000² input once aborted on malloc).
    func testHostileMetadataIsRefusedWithTheCause() {
        let cases: [(String, String)] = [
            (#"{"names": {"9223372036854775807": "x"}}"#, "class id 9223372036854775807 is outside 0…9999"),
            (#"{"names": {"0": "a", "-1": "b"}}"#, "class id -1 is outside"),
            (#"{"names": {"10000": "a"}}"#, "class id 10000 is outside"),
            (#"{"imgsz": [100000, 100000]}"#, "imgsz 100000×100000 is larger than 4096×4096"),
            (#"{"imgsz": 4097}"#, "larger than 4096×4096"),
            (#"{"imgsz": [640, 640, 3]}"#, "imgsz must be a positive number or [height, width]"),
            (#"{"imgsz": [640, "640"]}"#, "imgsz must be"),
            (#"{"imgsz": -640}"#, "imgsz must be"),
            (#"{"imgsz": 1e300}"#, "imgsz must be"),
            (#"{"stride": 0}"#, "stride must be a whole number"),
            (#"{"stride": "32"}"#, "stride must be"),
            (#"{"names": 7}"#, "names must be an object or a list"),
            (#"{"names": [1, 2]}"#, "names must be strings"),
            ("[]", "not a JSON object"),
            (String(repeating: "[", count: 10_000), "not JSON"),
            ("{\"names\": [" + Array(repeating: "\"a\"", count: 10_001).joined(separator: ",") + "]}", "10001 names; a model has at most 10000"),
            ("{\"x\": \"" + String(repeating: "a", count: ModelMetadata.maxTextBytes) + "\"}", "model metadata is at most"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try ModelMetadata.parse(text), text.prefix(60).description) {
                XCTAssertTrue("\($0)".contains(reason), "\(text.prefix(60)): \($0)")
            }
        }
        XCTAssertEqual(try ModelMetadata.parse(#"{"imgsz": [4096, 4096], "stride": 32}"#).inputSize?.width, 4096)
        XCTAssertEqual(try ModelMetadata.parse(#"{"names": {"1": "b", "0": "a"}}"#).names, ["a", "b"])
    }

    func testLabelsFileParsing() {
        XCTAssertEqual(ClassLabels.parseLabelsFile("person\r\n  bicycle \n\ncar\n"), ["person", "bicycle", "car"])
    }

    func testLabelsResolutionOrder() throws {
        XCTAssertEqual(try ClassLabels.resolve(classCount: 2, metadataNames: ["a", "b"], labelsFile: nil), ["a", "b"])
        XCTAssertEqual(try ClassLabels.resolve(classCount: 2, metadataNames: ["a", "b"], labelsFile: ("f", ["x", "y"])),
                       ["x", "y"])
        XCTAssertEqual(try ClassLabels.resolve(classCount: 80, metadataNames: nil, labelsFile: nil)[0], "person")
        XCTAssertEqual(try ClassLabels.resolve(classCount: 80, metadataNames: nil, labelsFile: nil)[79], "toothbrush")
        XCTAssertEqual(try ClassLabels.resolve(classCount: 3, metadataNames: nil, labelsFile: nil), ["0", "1", "2"])
        XCTAssertThrowsError(try ClassLabels.resolve(classCount: 80, metadataNames: nil, labelsFile: ("coco.names", ["a"]))) {
            XCTAssertTrue("\($0)".contains("coco.names: 1 labels, but the model predicts 80 classes"))
        }
    }

    func testDetectionsLineMatchesTheContract() {
        let d = LabeledDetection(label: "ball", classId: 0, confidence: 0.93129, x: 10, y: 20, width: 40, height: 41)
        XCTAssertEqual(DetectionsLine.json(pts: 123456789, width: 1280, height: 720, objects: [d]),
                       #"{"type":"detections","pts":123456789,"width":1280,"height":720,"objects":[{"label":"ball","class_id":0,"confidence":0.9313,"x":10,"y":20,"w":40,"h":41}]}"#)
        XCTAssertEqual(DetectionsLine.json(pts: nil, width: 2, height: 2, objects: []),
                       #"{"type":"detections","pts":null,"width":2,"height":2,"objects":[]}"#)
    }

    func testLatencyStatsMeanAndP95() {
        var s = LatencyStats()
        for v in 1...100 { s.add(Double(v)) }
        XCTAssertEqual(s.mean, 50.5)
        XCTAssertEqual(s.p95, 95)
        XCTAssertEqual(s.count, 100)
    }
}
