import Foundation
import ProcessSupport
import XCTest

/// chatinject and chatsink joined to a chat server that misbehaves in every way we could
/// think of (Tests/interop/hostile_irc_server.py): the stream goes on, nothing crashes, and
/// once the server behaves a well-formed line still gets through.
final class HostileChatServerTests: XCTestCase {
    /// The fake server on an address of its own, and what it says it did.
    final class FakeServer {
        let background: Background
        let port: Int
        static let host = "127.0.0.9"

        init(plan: String) throws {
            let started = try Background(python([Paths.interop + "/hostile_irc_server.py", "--host", Self.host, "--plan", plan]),
                                         name: "hostile-irc")
            var found: Int?
            try eventually("the fake server listens") {
                found = started.stdout.split(separator: "\n").first { $0.hasPrefix("listening ") }
                    .flatMap { Int($0.dropFirst("listening ".count)) }
                return found != nil
            }
            background = started
            port = found ?? 0
        }

        var address: String { "irc://\(Self.host):\(port)" }
        var events: [String] { background.stdout.split(separator: "\n").map(String.init) }
    }

    private func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "chatcast-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Records a live stream through chatinject joined to `server`, until the server has sent
    /// its well-formed line; returns the chat lines found in the recording and how many frames it has.
    private func injectThrough(_ server: FakeServer, pingInterval: Int = 60) throws -> (chat: [String], frames: Int) {
        let dir = try tempDir()
        let clip = dir + "/clip.mkv"
        let publisher = try Background(gstLaunchProcess([
            "-e", "videotestsrc", "is-live=true", "num-buffers=3000", "!", "video/x-raw,format=I420,width=160,height=120,framerate=30/1",
            "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "h264parse", "!",
            "chatinject", "server=\(server.address)", "room=lobby", "nick=cam", "ping-interval=\(pingInterval)", "!",
            "matroskamux", "!", "filesink", "location=\(clip)"]), name: "hostile-inject")
        let started = Date()
        try eventually("the well-formed line is sent", timeout: 60) { server.events.contains("sent good line") }
        Thread.sleep(forTimeInterval: 1.5)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertTrue(publisher.process.isRunning, "the publisher went down: \(publisher.stderr.suffix(2000))")
        publisher.process.interrupt()
        XCTAssertTrue(publisher.finish(within: 20), "the publisher did not end")
        XCTAssertEqual(publisher.process.terminationStatus, 0, publisher.stderr.suffix(2000).description)

        let read = try gstLaunch(["filesrc", "location=\(clip)", "!", "matroskademux", "!", "h264parse", "!", "chatparse", "!",
                                  "chatsink"])
        XCTAssertEqual(read.status, 0, read.stderr)
        let chat = read.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.compactMap { $0["text"] as? String }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        probe.arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames",
                           "-of", "csv=p=0", clip]
        let frames = Int(try runToEnd(probe, timeout: 60).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        // The stream went on through all of it: about 30 frames a second of the run.
        XCTAssertGreaterThan(Double(frames), seconds * 30 * 0.5, "frames recorded in \(Int(seconds)) s")
        return (chat, frames)
    }

    func testChatInjectOutlivesEveryOddLineAndStillCarriesAWellFormedOne() throws {
        let server = try FakeServer(plan: "odd")
        let (chat, _) = try injectThrough(server)
        XCTAssertTrue(chat.contains("the well-formed line"), "chat in the stream: \(chat)")
        // The nick refusals made it give the first connection up and come back.
        XCTAssertTrue(server.events.contains("connection 2"), server.events.suffix(20).joined(separator: "\n"))
        // Lines that are no chat message did not become one.
        XCTAssertFalse(chat.contains("from nobody"))
        XCTAssertFalse(chat.contains("not our room"))
    }

    func testChatInjectLeavesASilentServerAndReconnects() throws {
        let server = try FakeServer(plan: "silent")
        let (chat, _) = try injectThrough(server, pingInterval: 2)
        XCTAssertTrue(chat.contains("the well-formed line"), "chat in the stream: \(chat)")
        XCTAssertTrue(server.events.contains("silent 1") && server.events.contains("connection 2"),
                      server.events.suffix(20).joined(separator: "\n"))
    }

    func testChatSinkForwardsToARoomWhoseServerWasOddThenSilent() throws {
        for plan in ["odd", "silent"] {
            let server = try FakeServer(plan: plan)
            let dir = try tempDir()
            let messages = dir + "/chat.txt"
            try "bob: from the stream\n".write(toFile: messages, atomically: true, encoding: .utf8)
            let sink = try Background(gstLaunchProcess([
                "videotestsrc", "is-live=true", "num-buffers=3000", "!", "video/x-raw,format=I420,width=160,height=120,framerate=30/1",
                "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "h264parse", "!",
                "chatinject", "messages-file=\(messages)", "from-start=true", "!", "chatparse", "!",
                "chatsink", "server=\(server.address)", "room=lobby", "nick=relay", "ping-interval=2", "location=\(dir)/out.jsonl"]),
                name: "hostile-sink")
            try eventually("\(plan): the stream's chat reaches the room", timeout: 60) {
                server.events.contains { $0.hasPrefix("got PRIVMSG #lobby :<bob> from the stream") }
            }
            XCTAssertTrue(sink.process.isRunning, "\(plan): chatsink's pipeline went down: \(sink.stderr.suffix(2000))")
            if plan == "silent" {
                // The silent connection is given up and made again while the stream goes on.
                try eventually("silent: a second connection", timeout: 30) { server.events.contains("connection 2") }
            }
            let written = (try? String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8)) ?? ""
            XCTAssertTrue(written.contains("from the stream"), "\(plan): chatsink still writes its lines")
            sink.stop()
        }
    }
}
