import Foundation
import ProcessSupport
import XCTest

extension Paths {
    /// The built launcher; a sanitizer run (scripts/tsan.sh) names its own build.
    static var chatcast: String {
        (ProcessInfo.processInfo.environment["CHATCAST_BUILD_DIR"] ?? repo.appendingPathComponent(".build/release").path) + "/chatcast"
    }
    static let interop = repo.appendingPathComponent("Tests/interop").path
    static let presets = repo.appendingPathComponent("pipelines").path
}

/// A `chatcast` process with the staged plugins, not started.
func chatcastProcess(_ arguments: [String]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Paths.chatcast)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["GST_PLUGIN_PATH"] = Paths.plugins
    env["GST_REGISTRY"] = NSTemporaryDirectory() + "chatcast-launch-registry.bin"
    process.environment = env
    return process
}

/// A background process whose stdout and stderr go to files, read while it runs.
final class Background {
    let process: Process
    let stdoutPath: String
    let stderrPath: String

    init(_ process: Process, name: String) throws {
        self.process = process
        let base = NSTemporaryDirectory() + "chatcast-\(name)-\(UUID().uuidString)"
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: stdoutPath)
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to end by itself; false when it had to be killed.
    @discardableResult
    func finish(within seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        guard process.isRunning else { return true }
        stop()
        return false
    }

    /// SIGTERM, then SIGKILL if it has not ended within 5 s (a stuck child must fail its
    /// test, not hang the suite).
    func stop() {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// `chatcast serve` on free ports (RTSP and IRC), stopped with SIGTERM.
final class VideoServer {
    let rtspPort = freePort()
    let ircPort = freePort()
    let httpPort = freePort()
    let dataDir = NSTemporaryDirectory() + "chatcast-serve-\(UUID().uuidString)"
    let background: Background

    init(extra: [String] = [], environment: [String: String] = [:]) throws {
        let serve = chatcastProcess(["serve", "--rtsp-port", String(rtspPort), "--irc-port", String(ircPort),
                                     "--http-port", String(httpPort), "--data-dir", dataDir] + extra)
        serve.environment?.merge(environment) { _, new in new }
        background = try Background(serve, name: "serve")
        guard waitForPort(ircPort), waitForPort(rtspPort), waitForPort(httpPort) else {
            throw SetupFailure("chatcast serve did not listen: \(background.stderr)")
        }
    }

    deinit {
        background.stop()
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    var irc: String { "irc://127.0.0.1:\(ircPort)" }
    var web: String { "http://127.0.0.1:\(httpPort)" }
    func url(_ room: String) -> String { "rtsp://127.0.0.1:\(rtspPort)/\(room)" }
    var log: String { background.stderr }

    /// Waits until the server says the room is live.
    func waitLive(_ room: String, timeout: TimeInterval = 30) throws {
        try eventually("#\(room) goes live", timeout: timeout) { log.contains("#\(room) is live") }
    }
}

/// A publisher of the test ball to `url`, detected (SEI on every frame), with chat lines from
/// a file stamped in and repeated on every IDR (no chat server needed), for `seconds`;
/// `detection` adds swiftyolo properties.
func publishTestBall(to url: String, chatFile: String, seconds: Int, detection: [String] = [],
                     extra: [String] = []) throws -> Background {
    let frames = seconds * 30
    return try Background(gstLaunchProcess([
        "videotestsrc", "is-live=true", "pattern=ball", "num-buffers=\(frames)", "!",
        "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "swiftyolo"] + detection + ["!",
        "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "h264parse", "config-interval=-1", "!",
        "chatinject", "messages-file=\(chatFile)", "from-start=true", "repeat-count=5", "!", "rtspclientsink", "location=\(url)"] + extra),
        name: "publisher")
}

/// JSON lines of chatsink/`chatcast play --headless` output, parsed.
func jsonObjects(_ output: String) -> [[String: Any]] {
    output.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}

/// A gst-launch rtspsrc viewer that stopped itself (identity eos-after) ended cleanly. 1.22's
/// rtspsrc may report "Could not write to resource" for the TEARDOWN it sends as it stops
/// (GSTREAMER-NOTES); that one error after a complete run is accepted, nothing else.
func assertViewerEnded(_ viewer: LaunchResult, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    guard viewer.status != 0 else { return }
    let errors = viewer.stderr.split(separator: "\n").filter { $0.hasPrefix("ERROR:") }
    XCTAssertTrue(!errors.isEmpty && errors.allSatisfy { $0.contains("Could not write to resource") },
                  "\(label): \(viewer.stderr)", file: file, line: line)
}

/// Tests/interop/rtsp_probe.py (raw RTSP requests) and its JSON report.
func rtspProbe(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [Paths.interop + "/rtsp_probe.py"] + arguments
    let out = try runToEnd(process, timeout: 60)
    XCTAssertEqual(out.status, 0, out.stderr, file: file, line: line)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], out.stdout, file: file, line: line)
}
