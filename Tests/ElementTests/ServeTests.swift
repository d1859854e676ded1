import ChatCastRTSP
import Foundation
import ProcessSupport
import XCTest

/// `chatcast serve`, `publish` and `play` as their users run them: the "Play Video" flow,
/// clients no one here wrote (ffmpeg, ffprobe, rtspsrc), and what a broken or hostile
/// client sends.
final class ServeTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-servetest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func chatFile(_ lines: String) throws -> String {
        let path = dir + "/chat-\(UUID().uuidString).txt"
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The original program's flow: publish to a room; a viewer that knows only the room
    /// name gets the URL from the chat server and receives the detections and a chat message
    /// typed while the stream runs.
    func testAViewerThatKnowsOnlyTheRoomGetsDetectionsAndChatTypedDuringTheStream() throws {
        let server = try VideoServer()
        let publisher = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--detect", "--server", server.irc, "--to", server.url("lobby"),
            "--set", "width=320", "--set", "height=240", "--duration", "40"]), name: "publish")
        defer { publisher.stop() }
        let snapshot = dir + "/snapshot.png"
        let viewer = try Background(chatcastProcess([
            "play", "--room", "lobby", "--server", server.irc, "--headless", "--duration", "12", "--snapshot", snapshot]),
            name: "play")
        try eventually("the viewer prints detections", timeout: 40) { viewer.stdout.contains(#""type":"detections""#) }
        let said = try runToEnd(chatcastProcess(["chat", "--server", server.irc, "--room", "lobby", "--nick", "bob"]),
                                input: "typed during the stream\n", timeout: 30)
        XCTAssertEqual(said.status, 0, said.stderr)
        XCTAssertTrue(viewer.finish(within: 30), "play --duration ends by itself")
        XCTAssertEqual(viewer.process.terminationStatus, 0, viewer.stderr)
        XCTAssertTrue(viewer.stderr.contains("playing \(server.url("lobby"))"), "the URL came from the room's topic: \(viewer.stderr)")
        let lines = jsonObjects(viewer.stdout)
        let chat = lines.filter { $0["type"] as? String == "chat" }
        XCTAssertTrue(chat.contains { $0["text"] as? String == "typed during the stream" && $0["nick"] as? String == "bob" },
                      "chat: \(chat)")
        let balls = lines.filter { line in
            (line["objects"] as? [[String: Any]])?.contains { $0["label"] as? String == "ball" } ?? false
        }
        XCTAssertGreaterThan(balls.count, 30, "detections of the ball reach the viewer")
        let png = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "the snapshot is a PNG")
        XCTAssertTrue(server.log.contains("#lobby is live at \(server.url("lobby"))"), server.log)
    }

    /// ffmpeg and ffprobe read the served room over TCP and over UDP and see our SEI; rtspsrc
    /// gets the chat lines.
    func testFFmpegFFprobeAndRtspsrcReadTheRoomOverTCPAndUDP() throws {
        let server = try VideoServer()
        let publisher = try publishTestBall(to: server.url("lobby"), chatFile: try chatFile("alice: seen by ffmpeg\n"), seconds: 60)
        defer { publisher.stop() }
        try server.waitLive("lobby")
        for transport in ["tcp", "udp"] {
            let ffmpeg = Process()
            ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            ffmpeg.arguments = ["-hide_banner", "-rtsp_transport", transport, "-i", server.url("lobby"), "-frames:v", "60",
                                "-vf", "showinfo", "-f", "null", "-"]
            let out = try runToEnd(ffmpeg, timeout: 60)
            XCTAssertEqual(out.status, 0, "\(transport): \(out.stderr.suffix(2000))")
            XCTAssertTrue(out.stderr.contains("UUID=9f8ccd97-fb33-4dc7-a688-bc6dfa535d02"), "\(transport): no chatcast SEI")
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
            probe.arguments = ["-v", "error", "-rtsp_transport", transport, "-select_streams", "v:0", "-show_entries",
                               "stream=codec_name,width,height", "-of", "csv=p=0", server.url("lobby")]
            let probed = try runToEnd(probe, timeout: 60)
            XCTAssertEqual(probed.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "h264,320,240", "\(transport): \(probed.stderr)")
        }
        // The publisher repeats recent chat on every IDR, so a viewer joining late gets it.
        for transport in ["tcp", "udp"] {
            let viewer = try gstLaunch(["rtspsrc", "location=\(server.url("lobby"))", "protocols=\(transport)", "!", "rtph264depay",
                                        "!", "h264parse", "!", "identity", "eos-after=61", "!", "chatparse", "!", "chatsink"],
                                       timeout: 60)
            XCTAssertEqual(viewer.status, 0, "\(transport): \(viewer.stderr)")
            let chat = jsonObjects(viewer.stdout).filter { $0["type"] as? String == "chat" }
            XCTAssertEqual(chat.first?["text"] as? String, "seen by ffmpeg", transport)
            XCTAssertGreaterThan(jsonObjects(viewer.stdout).filter { $0["type"] as? String == "detections" }.count, 40, transport)
        }
    }

    /// `ffmpeg -re -i clip -c copy -f rtsp` publishes (RECORD) and our viewer plays the chat
    /// that is inside the clip.
    func testFFmpegPublishesAClipAndOurViewerPlaysItsChat() throws {
        let clip = dir + "/clip.mkv"
        let messages = try chatFile((1...20).map { "carol: line \($0)\n" }.joined())
        let made = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=600", "!",
                                  "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "x264enc",
                                  "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "h264parse", "!",
                                  "chatinject", "messages-file=\(messages)", "repeat-count=5", "!", "matroskamux", "!",
                                  "filesink", "location=\(clip)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let server = try VideoServer()
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-hide_banner", "-loglevel", "error", "-re", "-i", clip, "-c", "copy", "-f", "rtsp",
                            "-rtsp_transport", "tcp", server.url("ffroom")]
        let publisher = try Background(ffmpeg, name: "ffmpeg")
        defer { publisher.stop() }
        try server.waitLive("ffroom")
        let viewer = try Background(chatcastProcess(["play", server.url("ffroom"), "--headless", "--duration", "8"]), name: "play")
        XCTAssertTrue(viewer.finish(within: 40))
        XCTAssertEqual(viewer.process.terminationStatus, 0, viewer.stderr)
        let chat = jsonObjects(viewer.stdout).filter { $0["type"] as? String == "chat" }
        XCTAssertGreaterThanOrEqual(chat.count, 3, "chat from the clip: \(viewer.stdout.prefix(1000)) \(viewer.stderr)")
        XCTAssertTrue(chat.allSatisfy { ($0["text"] as? String)?.hasPrefix("line ") ?? false && $0["nick"] as? String == "carol" })
    }
}
