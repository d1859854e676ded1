import Foundation
import ProcessSupport
import XCTest

/// `chatcast serve --config FILE` as an operator uses it: settings from the file with flags
/// winning, a fixed mount served and announced, and a room the server runs detection on.
final class ServeConfigFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-serveconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func config(_ yaml: String) throws -> String {
        let path = dir + "/serve.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// serve detecting #lobby and #stage (config file, RECORD behind a password), a plain
    /// publisher in #lobby given the password in its environment, and #lobby-detected live.
    private func detectedLobby() throws -> (VideoServer, Background) {
        let file = try config("publish-password: hush-\(getpid())\nrooms:\n  lobby: {detect: true}\n  stage: {detect: true}\n")
        let server = try VideoServer(extra: ["--config", file, "--dir", Paths.presets])
        let publish = chatcastProcess([
            "publish", "--dir", Paths.presets, "--server", server.irc, "--to", server.url("lobby"), "--user", "publisher",
            "--set", "width=320", "--set", "height=240", "--duration", "60"])
        publish.environment?["CHATCAST_PUBLISH_PASSWORD"] = "hush-\(getpid())"
        let publisher = try Background(publish, name: "publish")
        try server.waitLive("lobby-detected", timeout: 60)
        return (server, publisher)
    }

    /// The process id of the first relay child serve started (from its log).
    private func relayProcess(of server: VideoServer) throws -> Int32 {
        try XCTUnwrap(server.log.components(separatedBy: "(relay pid ").dropFirst().first
            .flatMap { Int32($0.prefix { $0.isNumber }) }, server.log)
    }

    /// The publisher sends plain video (no swiftyolo); the server's relay re-publishes #lobby
    /// with detections as #lobby-detected, carrying the room's chat, and stops with it.
    func testARoomDetectedByTheServerReachesViewersOfItsOutputRoom() throws {
        let (server, publisher) = try detectedLobby()
        defer { publisher.stop() }
        XCTAssertTrue(server.log.contains("detecting #lobby → #lobby-detected"), server.log)
        // The relay child got the publisher password (its output room is live), but not on
        // its command line, which every local user can read.
        let relayPID = try relayProcess(of: server)
        let commandLine = try XCTUnwrap(FileManager.default.contents(atPath: "/proc/\(relayPID)/cmdline"), "relay \(relayPID) runs")
        XCTAssertTrue(String(decoding: commandLine, as: UTF8.self).contains("relay"))
        XCTAssertFalse(String(decoding: commandLine, as: UTF8.self).contains("hush-"), "no password in the relay's command line")
        // Two detected rooms share the cores: each relay's torch gets half (at least one).
        let share = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        XCTAssertTrue(String(decoding: commandLine, as: UTF8.self).contains("--threads\0\(share)\0"),
                      String(decoding: commandLine, as: UTF8.self))
        XCTAssertTrue(server.log.contains("detecting #lobby → #lobby-detected with \(share) torch thread"), server.log)

        let plain = try gstLaunch(["rtspsrc", "location=\(server.url("lobby"))", "!", "rtph264depay", "!", "h264parse", "!",
                                   "identity", "eos-after=31", "!", "chatparse", "!", "chatsink"], timeout: 60)
        assertViewerEnded(plain, "plain room")
        XCTAssertFalse(plain.stdout.contains(#""type":"detections""#), "the publisher itself detects nothing: \(plain.stdout.prefix(300))")

        let viewer = try Background(chatcastProcess([
            "play", "--room", "lobby-detected", "--server", server.irc, "--headless", "--duration", "10"]), name: "play")
        try eventually("the viewer prints detections", timeout: 40) { viewer.stdout.contains(#""type":"detections""#) }
        let said = try runToEnd(chatcastProcess(["chat", "--server", server.irc, "--room", "lobby", "--nick", "gina"]),
                                input: "through the server's detector\n", timeout: 30)
        XCTAssertEqual(said.status, 0, said.stderr)
        XCTAssertTrue(viewer.finish(within: 40), "play --duration ends by itself")
        XCTAssertEqual(viewer.process.terminationStatus, 0, viewer.stderr)
        XCTAssertTrue(viewer.stderr.contains("playing \(server.url("lobby-detected"))"), viewer.stderr)
        let lines = jsonObjects(viewer.stdout)
        XCTAssertTrue(lines.contains { $0["type"] as? String == "chat" && $0["text"] as? String == "through the server's detector" },
                      "the room's chat rides through the relay: \(viewer.stdout.suffix(600))")
        XCTAssertGreaterThan(lines.filter { line in
            (line["objects"] as? [[String: Any]])?.contains { $0["label"] as? String == "ball" } ?? false
        }.count, 30, "the server's relay added detections")

        publisher.stop()
        try eventually("the detected room ends with its source", timeout: 30) { server.log.contains("#lobby-detected ended") }
        XCTAssertFalse(server.log.contains("restarting"), "the relay ended with its room, it did not fail: \(server.log)")
    }

    /// A publisher without chat or detection of its own — `ffmpeg -re -c copy` of a file with
    /// B-frames and AAC — in a room the server detects: `chatcast play` of the detected room
    /// prints the ball's detections and the room's chat.
    func testAnFFmpegCopyPublisherGetsDetectionsAndChatFromTheServer() throws {
        let clip = dir + "/ball.mp4"
        let ball = try gstLaunch(["-q", "videotestsrc", "pattern=ball", "num-buffers=1800", "!",
                                  "video/x-raw,width=320,height=240,framerate=30/1", "!", "y4menc", "!", "filesink", "location=\(dir)/ball.y4m"],
                                 timeout: 120)
        XCTAssertEqual(ball.status, 0, ball.stderr)
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-i", dir + "/ball.y4m", "-f", "lavfi", "-i", "sine", "-t", "60",
                            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", clip]
        let made = try runToEnd(ffmpeg, timeout: 120)
        XCTAssertEqual(made.status, 0, made.stderr)

        let server = try VideoServer(extra: ["--config", try config("rooms:\n  copied: {detect: true}\n"), "--dir", Paths.presets])
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        copy.arguments = ["-nostdin", "-loglevel", "error", "-re", "-i", clip, "-c", "copy", "-f", "rtsp", server.url("copied")]
        let publisher = try Background(copy, name: "ffmpeg-copy")
        defer { publisher.stop() }
        try server.waitLive("copied-detected", timeout: 60)
        let viewer = try Background(chatcastProcess([
            "play", "--room", "copied-detected", "--server", server.irc, "--headless", "--duration", "10"]), name: "play")
        try eventually("the viewer prints detections", timeout: 40) { viewer.stdout.contains(#""type":"detections""#) }
        let said = try runToEnd(chatcastProcess(["chat", "--server", server.irc, "--room", "copied", "--nick", "hana"]),
                                input: "said beside an ffmpeg stream\n", timeout: 30)
        XCTAssertEqual(said.status, 0, said.stderr)
        XCTAssertTrue(viewer.finish(within: 40), "play --duration ends by itself")
        let lines = jsonObjects(viewer.stdout)
        XCTAssertTrue(lines.contains { $0["type"] as? String == "chat" && $0["text"] as? String == "said beside an ffmpeg stream" },
                      viewer.stdout.suffix(300) + viewer.stderr)
        XCTAssertGreaterThan(lines.filter { line in
            (line["objects"] as? [[String: Any]])?.contains { $0["label"] as? String == "ball" } ?? false
        }.count, 30, "the ball is detected in the B-frame stream")
    }

    /// Ports and the publisher password come from the file, a flag beats the file, and a
    /// fixed mount is served, announced as its room's topic, and closed to RECORD.
    func testFileSettingsFlagsWinAndAFixedMountIsServedAndAnnounced() throws {
        let rtspPort = freePort(), fileIRCPort = freePort(), flagIRCPort = freePort()
        let file = try config("""
            rtsp-port: \(rtspPort)
            irc-port: \(fileIRCPort)
            data-dir: \(dir)/history
            publish-password: secret
            mounts:
              /clock: {preset: test, set: {width: 320, height: 240, bitrate: 500}}
            """)
        let server = try Background(chatcastProcess(["serve", "--config", file, "--irc-port", String(flagIRCPort),
                                                     "--dir", Paths.presets]), name: "serve")
        defer { server.stop() }
        guard waitForPort(rtspPort), waitForPort(flagIRCPort) else {
            return XCTFail("RTSP on the file's port and IRC on the flag's: \(server.stderr)")
        }
        XCTAssertFalse(waitForPort(fileIRCPort, timeout: 0.5), "the flag replaced the file's IRC port")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/history"), "history where the file says")

        let port = String(rtspPort)
        XCTAssertEqual(try rtspProbe(["announce", "127.0.0.1", port, "/stage"])["status"] as? Int, 401,
                       "the file's publish-password guards RECORD")
        XCTAssertEqual(try rtspProbe(["announce", "127.0.0.1", port, "/clock", "publisher", "secret"])["status"] as? Int, 405,
                       "a fixed mount takes no publisher")

        let snapshot = dir + "/clock.png"
        let viewer = try runToEnd(chatcastProcess([
            "play", "--room", "clock", "--server", "irc://127.0.0.1:\(flagIRCPort)", "--headless", "--duration", "4",
            "--snapshot", snapshot]), timeout: 60)
        XCTAssertEqual(viewer.status, 0, viewer.stderr + server.stderr)
        XCTAssertTrue(viewer.stderr.contains("playing rtsp://127.0.0.1:\(rtspPort)/clock"), "the topic named the mount: \(viewer.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a frame of the mount")

        // A second viewer after the first left finds the URL too (the topic outlives them).
        let again = try runToEnd(chatcastProcess(["chat", "--server", "irc://127.0.0.1:\(flagIRCPort)", "--room", "clock",
                                                  "--nick", "hal"]), input: "/play\n", timeout: 30)
        XCTAssertTrue(again.stdout.contains("rtsp://127.0.0.1:\(rtspPort)/clock"), again.stdout + again.stderr)
    }

    /// serve's passwords may come from the environment (kept out of `ps`): RECORD then needs
    /// the publisher password and chat clients the IRC one (which `chat` may also take from
    /// its environment); a flag still wins.
    func testPasswordsFromTheEnvironment() throws {
        let server = try VideoServer(environment: ["CHATCAST_PUBLISH_PASSWORD": "hush", "CHATCAST_IRC_PASSWORD": "door"])
        let port = String(server.rtspPort)
        XCTAssertEqual(try rtspProbe(["announce", "127.0.0.1", port, "/stage"])["status"] as? Int, 401)
        XCTAssertEqual(try rtspProbe(["announce", "127.0.0.1", port, "/stage", "publisher", "hush"])["status"] as? Int, 200)
        let refused = try runToEnd(chatcastProcess(["chat", "--server", server.irc, "--room", "stage", "--nick", "ivy"]),
                                   input: "hello\n", timeout: 30)
        XCTAssertNotEqual(refused.status, 0, "no IRC password, no chat: \(refused.stdout)\(refused.stderr)")
        let admitted = try runToEnd(chatcastProcess(["chat", "--server", server.irc, "--room", "stage", "--nick", "ivy",
                                                     "--password", "door"]), input: "hello\n", timeout: 30)
        XCTAssertEqual(admitted.status, 0, admitted.stdout + admitted.stderr)
        let chat = chatcastProcess(["chat", "--server", server.irc, "--room", "stage", "--nick", "joe"])
        chat.environment?["CHATCAST_IRC_PASSWORD"] = "door"
        let fromEnvironment = try runToEnd(chat, input: "hello too\n", timeout: 30)
        XCTAssertEqual(fromEnvironment.status, 0, "the client's password from its environment: \(fromEnvironment.stderr)")

        let flagged = try VideoServer(extra: ["--publish-password", "flag"], environment: ["CHATCAST_PUBLISH_PASSWORD": "hush"])
        let flaggedPort = String(flagged.rtspPort)
        XCTAssertEqual(try rtspProbe(["announce", "127.0.0.1", flaggedPort, "/stage", "publisher", "hush"])["status"] as? Int, 401)
        XCTAssertEqual(try rtspProbe(["announce", "127.0.0.1", flaggedPort, "/stage", "publisher", "flag"])["status"] as? Int, 200)
    }

    /// SIGINT (and SIGTERM) stop serve cleanly with a publisher, a viewer, a chat client and a
    /// detection relay attached: exit status 0, ports closed, no relay left behind.
    func testASignalStopsServeCleanlyWithEverythingAttached() throws {
        let (server, publisher) = try detectedLobby()
        defer { publisher.stop() }
        let relayPID = try relayProcess(of: server)
        let viewer = try Background(gstLaunchProcess(["rtspsrc", "location=\(server.url("lobby-detected"))", "!", "fakesink"]),
                                    name: "viewer")
        defer { viewer.stop() }
        let typing = Pipe()  // stays open: the chat client stays connected
        let chat = chatcastProcess(["chat", "--server", server.irc, "--room", "lobby", "--nick", "kim"])
        chat.standardInput = typing
        let chatter = try Background(chat, name: "chat")
        defer { chatter.stop() }
        Thread.sleep(forTimeInterval: 2)

        kill(server.background.process.processIdentifier, SIGINT)
        XCTAssertTrue(server.background.finish(within: 15), "serve ends on SIGINT: \(server.log.suffix(1500))")
        XCTAssertEqual(server.background.process.terminationStatus, 0, String(server.log.suffix(1500)))
        XCTAssertTrue(server.log.contains("stopping (SIGINT)"), String(server.log.suffix(800)))
        XCTAssertFalse(waitForPort(server.rtspPort, timeout: 0.5), "RTSP closed")
        XCTAssertFalse(waitForPort(server.ircPort, timeout: 0.5), "IRC closed")
        XCTAssertNotEqual(kill(relayPID, 0), 0, "the relay child ended with the server")

        let plain = try VideoServer()
        kill(plain.background.process.processIdentifier, SIGTERM)
        XCTAssertTrue(plain.background.finish(within: 10), "serve ends on SIGTERM")
        XCTAssertEqual(plain.background.process.terminationStatus, 0, plain.log)
        XCTAssertTrue(plain.log.contains("stopping (SIGTERM)"), plain.log)
    }

    /// The launcher logs through swift-log: CHATCAST_LOG_LEVEL=warning keeps the information
    /// lines out and the errors in.
    func testTheLogLevelQuietsInformationButNotErrors() throws {
        let port = freePort()
        let quiet = chatcastProcess(["serve", "--rtsp-port", "0", "--irc-port", String(port), "--data-dir", dir + "/history"])
        quiet.environment?["CHATCAST_LOG_LEVEL"] = "warning"
        let server = try Background(quiet, name: "quiet")
        XCTAssertTrue(waitForPort(port), server.stderr)
        server.stop()
        XCTAssertFalse(server.stderr.contains("chat on irc://"), server.stderr)
        XCTAssertFalse(server.stderr.contains("stopping"), server.stderr)
        let file = try config("rtsp-port: x\n")
        let failing = chatcastProcess(["serve", "--config", file])
        failing.environment?["CHATCAST_LOG_LEVEL"] = "warning"
        let out = try runToEnd(failing, timeout: 30)
        XCTAssertTrue(out.stderr.hasPrefix("chatcast: ") && out.stderr.contains("serve.yaml: rtsp-port must be a whole number"), out.stderr)
    }

    /// A file with a mistake stops serve before it listens, saying where the mistake is.
    func testABadFileIsRefusedWithItsLine() throws {
        let port = freePort()
        let file = try config("irc-port: \(port)\nrooms:\n  lobby: {detect: ture}\n")
        let out = try runToEnd(chatcastProcess(["serve", "--config", file]), timeout: 30)
        XCTAssertNotEqual(out.status, 0)
        XCTAssertTrue(out.stderr.contains("serve.yaml:3: \"detect\" must be true or false"), out.stderr)
        let numbers = try config("rtsp-port: eighty\n")
        let bad = try runToEnd(chatcastProcess(["serve", "--config", numbers]), timeout: 30)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("rtsp-port must be a whole number in 0...65535, not eighty"), bad.stderr)
        XCTAssertFalse(waitForPort(port, timeout: 0.5), "nothing listened")
    }
}
