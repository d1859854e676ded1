import Foundation
import XCTest

/// The issue's finding, reproduced end to end: a messages file with odd lines (a 600-character
/// line, a 200-character nick, controls, invalid UTF-8, markup, huge numbers) went into a
/// detected stream, and the reader in another process lost whole envelopes — chat and
/// boxes. Now every message arrives and every frame keeps its boxes.
final class OddChatThroughStreamsTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "chatcast-odd-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// The corpus as file bytes, and the texts that must arrive (in order).
    static func corpus() -> (bytes: Data, texts: [String]) {
        var lines: [Data] = []
        var texts: [String] = []
        func add(_ line: String, _ text: String?) {
            lines.append(Data(line.utf8))
            if let text { texts.append(text) }
        }
        add("alice: a normal line", "a normal line")
        let long = String(repeating: "0123456789", count: 60)
        add("bob: " + long, String(long.prefix(500)))
        add(#"{"nick":""# + String(repeating: "N", count: 200) + #"","text":"from a 200-character nick"}"#,
            "from a 200-character nick")
        add(#"{"nick":"","room":"","id":"","text":"all empty but the text"}"#, "all empty but the text")
        add("carol: controls\u{1}\u{7}\u{1B}[31m here", "controls[31m here")
        lines.append(Data("dave: bad ".utf8) + Data([0xC3, 0x28, 0xFF]) + Data(" bytes".utf8))
        texts.append("bad \u{FFFD}(\u{FFFD} bytes")
        add(#"eve: <span size="400000">big</span> &amp; <script>x</script>"#,
            #"<span size="400000">big</span> &amp; <script>x</script>"#)
        add(#"{"nick":"frank","text":"huge numbers","x":1e300,"id":99999999999999999999}"#, "huge numbers")
        add(#"{"nick":"frank","text":"out of range","time":1e400}"#, nil)  // not readable JSON: skipped with a warning
        add(#"{"nick":"grace","text":12345678901234567890}"#, nil)  // no text string: skipped with a warning
        add("", nil)
        add(String(repeating: "x", count: 100_000), nil)  // over the line limit: skipped with a warning
        add(#"{"nick":"heidi","text":""# + String(repeating: #"\""#, count: 600) + #""}"#, nil)  // checked below
        add("ivan: the last line", "the last line")
        return (lines.reduce(Data()) { $0 + $1 + Data([0x0A]) }, texts)
    }

    private func chatTexts(_ output: String) -> [String] {
        jsonObjects(output).filter { $0["type"] as? String == "chat" }.compactMap { $0["text"] as? String }
    }

    private func checkArrived(_ texts: [String], _ expected: [String], _ label: String) {
        var arrived = texts
        // The line of 600 escaped quotes is cut to fit the envelope: some quotes, nothing else.
        let quotes = arrived.firstIndex { !$0.isEmpty && $0.allSatisfy { $0 == "\"" } }
        XCTAssertNotNil(quotes, "\(label): the quotes line arrives, cut: \(texts)")
        if let quotes { arrived.remove(at: quotes) }
        XCTAssertEqual(arrived, expected, label)
    }

    func testOddLinesThroughAnMP4ReadInAnotherProcess() throws {
        let (bytes, expected) = Self.corpus()
        let messages = dir + "/odd.txt", clip = dir + "/odd.mp4"
        try bytes.write(to: URL(fileURLWithPath: messages))
        let written = try gstLaunch(["videotestsrc", "is-live=true", "pattern=ball", "num-buffers=90", "!",
                                     "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "swiftyolo", "!",
                                     "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "h264parse", "!",
                                     "chatinject", "messages-file=\(messages)", "from-start=true", "!", "mp4mux", "!",
                                     "filesink", "location=\(clip)"], messages: true)
        XCTAssertEqual(written.status, 0, written.stderr)
        let said = written.stdout + written.stderr
        XCTAssertTrue(said.contains("a JSON line that holds no message (unreadable, or no text string) was skipped"), "the bad line is reported: \(said.suffix(2000))")
        XCTAssertTrue(said.contains("bytes (over 65536) was skipped"), "the long line is reported: \(said.suffix(2000))")

        let read = try gstLaunch(["filesrc", "location=\(clip)", "!", "qtdemux", "!", "h264parse", "!", "chatparse", "!",
                                  "chatsink"])
        XCTAssertEqual(read.status, 0, read.stderr)
        checkArrived(chatTexts(read.stdout), expected, "mp4")
        let boxes = jsonObjects(read.stdout).filter { $0["type"] as? String == "detections" }
        XCTAssertGreaterThanOrEqual(boxes.count, 85, "every frame keeps its boxes (of 90)")
        XCTAssertFalse(read.stderr.contains("dropped"), read.stderr)
    }

    func testOddLinesThroughTheServerOverRTSPReadInAnotherProcess() throws {
        let (bytes, expected) = Self.corpus()
        let messages = dir + "/odd-rtsp.txt"
        FileManager.default.createFile(atPath: messages, contents: nil)
        let server = try VideoServer()
        let publisher = try publishTestBall(to: server.url("odd"), chatFile: messages, seconds: 40)
        defer { publisher.stop() }
        try server.waitLive("odd")
        let viewer = try Background(chatcastProcess(["play", server.url("odd"), "--headless", "--duration", "8"]), name: "play")
        defer { viewer.stop() }
        try eventually("the viewer plays", timeout: 20) { viewer.stdout.contains(#""type":"detections""#) }
        try bytes.write(to: URL(fileURLWithPath: messages))
        XCTAssertTrue(viewer.finish(within: 40))
        checkArrived(chatTexts(viewer.stdout), expected, "rtsp")
        let boxes = jsonObjects(viewer.stdout).filter { $0["type"] as? String == "detections" }
        XCTAssertGreaterThan(boxes.count, 5, "boxes beside the chat")
    }
}
