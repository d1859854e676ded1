import ChatCastRTSP
import Foundation
import ProcessSupport
import XCTest

/// A Matroska recording whose writer was killed gets its duration from its clusters; closed
/// files are left alone; anything else (empty, not Matroska, cut anywhere) is refused
/// without a crash.
final class RecordingRepairTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-repair-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func duration(_ file: String) throws -> String {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        probe.arguments = ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file]
        return try runToEnd(probe, timeout: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A live recording as the server writes it (clusters of at most 1 s), killed after ~4 s.
    private func killedRecording() throws -> (file: String, seconds: Double) {
        let file = dir + "/killed.mkv"
        let writer = try Background(gstLaunchProcess([
            "videotestsrc", "is-live=true", "!", "video/x-raw,width=320,height=240,framerate=30/1", "!", "x264enc", "tune=zerolatency",
            "!", "h264parse", "!", "matroskamux", "max-cluster-duration=1000000000", "!", "filesink", "location=\(file)"]), name: "writer")
        try eventually("the writer starts", timeout: 20) { ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0) > 0 }
        let started = Date()
        Thread.sleep(forTimeInterval: 4)
        kill(writer.process.processIdentifier, SIGKILL)
        writer.process.waitUntilExit()
        return (file, Date().timeIntervalSince(started))
    }

    func testAKilledRecordingGetsItsDurationOnceAndPlayersSeeIt() throws {
        let (file, seconds) = try killedRecording()
        XCTAssertEqual(try duration(file), "N/A", "a killed matroskamux file has no duration")
        let written = try XCTUnwrap(try RecordingRepair.repairDuration(of: file))
        XCTAssertEqual(written, seconds, accuracy: 1.5)
        let probed = try XCTUnwrap(Double(try duration(file)))
        XCTAssertEqual(probed, written, accuracy: 0.05)
        XCTAssertNil(try RecordingRepair.repairDuration(of: file), "a file with a duration is left alone")
    }

    func testAClosedRecordingIsLeftAlone() throws {
        let file = dir + "/closed.mkv"
        let made = try gstLaunch(["-q", "videotestsrc", "num-buffers=60", "!", "video/x-raw,width=160,height=120,framerate=30/1", "!",
                                  "x264enc", "!", "h264parse", "!", "matroskamux", "!", "filesink", "location=\(file)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        XCTAssertNil(try RecordingRepair.repairDuration(of: file))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), before)
    }

    func testOddFilesAreRefusedAndFilesCutAnywhereNeverCrashIt() throws {
        let odd = ["empty": Data(), "text": Data("not a recording\n".utf8), "zeros": Data(count: 4096),
                   "random": Data((0..<65536).map { _ in UInt8.random(in: 0...255) }),
                   "huge sizes": Data([0x1A, 0x45, 0xDF, 0xA3, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])]
        for (name, bytes) in odd {
            let file = dir + "/odd.mkv"
            try bytes.write(to: URL(fileURLWithPath: file))
            XCTAssertThrowsError(try RecordingRepair.repairDuration(of: file), name)
        }
        XCTAssertThrowsError(try RecordingRepair.repairDuration(of: dir + "/absent.mkv"))
        let whole = try Data(contentsOf: URL(fileURLWithPath: try killedRecording().file))
        var repaired = 0
        for cut in stride(from: 0, to: whole.count, by: max(1, whole.count / 300)) {
            let file = dir + "/cut.mkv"
            try whole.prefix(cut).write(to: URL(fileURLWithPath: file))
            if let seconds = try? RecordingRepair.repairDuration(of: file) {
                repaired += 1
                XCTAssertGreaterThanOrEqual(seconds, 0)
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)).count, cut, "the repair never grows a file")
            }
        }
        XCTAssertGreaterThan(repaired, 200, "every cut after the first frame is repaired")
    }
}
