import ProcessSupport
import XCTest

/// Every bad input ends gst-launch-1.0 with an element error that names the file and the
/// cause and says what to do — never a crash.
final class BadInputTests: XCTestCase {
    private func fixture(_ name: String) throws -> String {
        let path = Paths.fixtures + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            throw SetupFailure("fixture \(path) missing: run `make test` (it writes them with Tests/fixtures/make_fixtures.py)")
        }
        return path
    }

    /// Runs a short pipeline with these swiftyolo settings and checks it fails cleanly
    /// with every phrase in `expect` on stderr/stdout.
    private func assertFails(_ settings: [String], source: String = "videotestsrc num-buffers=3 ! video/x-raw,width=320,height=240",
                             expect: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try gstLaunch(source.split(separator: " ").map(String.init) + ["!", "swiftyolo"] + settings
                                   + ["!", "fakesink"], timeout: 60)
        let output = result.stdout + result.stderr
        XCTAssertFalse(result.signaled, "gst-launch died from a signal:\n\(output)", file: file, line: line)
        XCTAssertNotEqual(result.status, 0, "pipeline succeeded:\n\(output)", file: file, line: line)
        XCTAssertTrue(output.contains("ERROR: from element"), output, file: file, line: line)
        for phrase in expect {
            XCTAssertTrue(output.contains(phrase), "missing \"\(phrase)\" in:\n\(output)", file: file, line: line)
        }
        XCTAssertFalse(output.contains("core dumped") || output.contains("terminate called"), output, file: file, line: line)
    }

    /// Ultralytics metadata (config.txt inside the model) is input like the rest of the file:
    /// ids, sizes and counts beyond reason end the pipeline with the file and the cause.
    func testHostileModelMetadataIsAClearErrorNamingTheFile() throws {
        let causes = [
            "huge-class-id": "class id 9223372036854775807 is outside 0…9999",
            "negative-class-id": "class id -1 is outside 0…9999",
            "huge-input": "imgsz 100000×100000 is larger than 4096×4096",
            "zero-input": "imgsz must be a positive number or [height, width]",
            "three-sides": "imgsz must be a positive number or [height, width]",
            "too-many-names": "10001 names; a model has at most 10000 classes",
            "deep-nesting": "config.txt is not JSON",
            "not-json": "config.txt is not JSON",
            "huge-stride": "stride must be a whole number from 1 to 4096",
            "too-long": "model metadata is at most 1048576",
        ]
        for (name, cause) in causes.sorted(by: { $0.key < $1.key }) {
            let path = try fixture("metadata-\(name).torchscript")
            try assertFails(["model=\(path)"], expect: [path, cause])
        }
    }

    func testMissingModelFile() throws {
        try assertFails(["model=/nonexistent/yolo.torchscript"],
                        expect: ["/nonexistent/yolo.torchscript", "No such file or directory", "Set model="])
    }

    func testDirectoryInsteadOfModel() throws {
        let path = try fixture("directory.torchscript")
        try assertFails(["model=\(path)"], expect: [path, "not a TorchScript file"])
    }

    func testTruncatedModel() throws {
        let path = try fixture("truncated.torchscript")
        try assertFails(["model=\(path)"], expect: [path, "not a TorchScript file, or truncated"])
    }

    func testTextFileAsModel() throws {
        let path = try fixture("not-a-model.torchscript")
        try assertFails(["model=\(path)"], expect: [path, "not a TorchScript file"])
    }

    func testModelFromANewerTorchFileFormat() throws {
        let path = try fixture("newer-version.torchscript")
        try assertFails(["model=\(path)"], expect: [path, "newer torch", "torch 1.13", "python3-torch"])
    }

    func testModelUsingAnOperatorThisLibtorchLacks() throws {
        let path = try fixture("unknown-op.torchscript")
        try assertFails(["model=\(path)"], expect: [path, "newer torch", "torch 1.13"])
    }

    func testOutputShapeMatchingNoHead() throws {
        let path = try fixture("no-head.torchscript")
        try assertFails(["model=\(path)"], expect: [path, "[1,3]", "matches no known head", "head="])
    }

    func testLabelsCountDisagreeingWithTheModel() throws {
        let labels = try fixture("two-labels.txt")
        try assertFails(["labels=\(labels)"], expect: [labels, "2 labels", "1 classes"])
    }

    func testMissingLabelsFile() throws {
        try assertFails(["labels=/nonexistent/labels.txt"], expect: ["/nonexistent/labels.txt", "No such file"])
    }

    func testCudaWithoutCuda() throws {
        try assertFails(["device=cuda"], expect: ["cuda", "no CUDA support", "device=cpu"])
        try assertFails(["device=cuda:1"], expect: ["cuda:1", "device=cpu"])
    }

    func testNonsenseDevice() throws {
        try assertFails(["device=toaster"], expect: ["toaster", "cpu, cuda or cuda:N"])
    }

    func testFormatItCannotTake() throws {
        // gst-launch refuses to link and names the element and the caps.
        let result = try gstLaunch(["videotestsrc", "num-buffers=1", "!", "video/x-raw,format=YUY2", "!", "swiftyolo", "!", "fakesink"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertFalse(result.signaled)
        XCTAssertTrue((result.stdout + result.stderr).contains("swiftyolo0 can't handle caps video/x-raw, format=(string)YUY2"),
                      result.stdout + result.stderr)
    }

    func testLabelsFileRenamesClasses() throws {
        let labels = try fixture("one-label.txt")
        let result = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=5", "!", "video/x-raw,width=320,height=240",
                                    "!", "swiftyolo", "labels=\(labels)", "post-messages=true", "!", "fakesink"],
                                   messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        let labelsSeen = detectionLines(result.stdout).flatMap { ($0["objects"] as? [[String: Any]]) ?? [] }
            .compactMap { $0["label"] as? String }
        XCTAssertFalse(labelsSeen.isEmpty)
        XCTAssertEqual(Set(labelsSeen), ["sphere"])
    }

    func testTupleOutputIsReadFromItsFirstTensor() throws {
        let path = try fixture("tuple-yolov8.torchscript")
        let result = try gstLaunch(["videotestsrc", "num-buffers=2", "!", "video/x-raw,width=320,height=240", "!",
                                    "swiftyolo", "model=\(path)", "post-messages=true", "!", "fakesink"], messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(detectionLines(result.stdout).count, 2)
    }
}
