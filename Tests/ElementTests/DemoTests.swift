import Foundation
import ProcessSupport
import XCTest

/// `chatcast demo` (what `make demo` runs): everything on loopback in one process, ending
/// by itself with status 0 after its duration, with detections, chat and a snapshot.
final class DemoTests: XCTestCase {
    func testTheDemoRunsItsDurationAndExitsCleanly() throws {
        let snapshot = NSTemporaryDirectory() + "chatcast-demo-test-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: snapshot) }
        let started = Date()
        let demo = try runToEnd(chatcastProcess(["demo", "--duration", "12", "--headless", "--snapshot", snapshot,
                                                 "--dir", Paths.presets]), timeout: 90)
        XCTAssertEqual(demo.status, 0, "status \(demo.status): \(demo.stderr.suffix(1500))")
        XCTAssertFalse(demo.signaled, "the demo crashed: \(demo.stderr.suffix(1500))")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 11, "it ran its duration")
        let lines = jsonObjects(demo.stdout)
        XCTAssertGreaterThan(lines.filter { $0["type"] as? String == "detections" }.count, 30, "detections reach the viewer")
        XCTAssertTrue(lines.contains { $0["type"] as? String == "chat" && $0["text"] as? String == "hello from the demo" },
                      "the demo's chat reaches the viewer: \(demo.stdout.suffix(500))")
        XCTAssertTrue(demo.stderr.contains("snapshot with boxes and chat: \(snapshot)"), demo.stderr)
        let png = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }
}
