import Foundation
import ProcessSupport
import XCTest

/// Our publishers carry the input's sound: a file's sound unless `--no-audio`, none from a
/// file without sound (the publish must not wait for it), and the same through
/// `--host-rtsp`'s own server. The camera's microphone is its preset's `${audio-device}`.
final class PublisherSoundTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-sound-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func clip(_ name: String, sound: Bool) throws -> String {
        let path = dir + "/" + name
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30"]
            + (sound ? ["-f", "lavfi", "-i", "sine", "-c:a", "aac"] : []) + ["-t", "60", "-c:v", "libx264", "-pix_fmt", "yuv420p", path]
        let made = try runToEnd(ffmpeg, timeout: 120)
        XCTAssertEqual(made.status, 0, made.stderr)
        return path
    }

    /// The codec of each stream ffprobe finds at `url`, sorted.
    private func streams(_ url: String) throws -> [String] {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        probe.arguments = ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name", "-of", "csv=p=0", url]
        let out = try runToEnd(probe, timeout: 60)
        XCTAssertEqual(out.status, 0, out.stderr)
        return out.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
    }

    private func publishFile(_ server: VideoServer, _ input: String, room: String, extra: [String] = []) throws -> Background {
        try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--preset", "file", "--input", input, "--server", server.irc, "--to", server.url(room),
            "--set", "width=320", "--set", "height=240", "--duration", "30"] + extra), name: "publish-" + room)
    }

    func testAFilesSoundIsPublishedUnlessNoAudioAndAMuteFileStillPublishes() throws {
        let talking = try clip("talk.mp4", sound: true), mute = try clip("mute.mp4", sound: false)
        let server = try VideoServer()
        let withSound = try publishFile(server, talking, room: "talk")
        defer { withSound.stop() }
        let silent = try publishFile(server, mute, room: "mute")
        defer { silent.stop() }
        let toldNot = try publishFile(server, talking, room: "quiet", extra: ["--no-audio"])
        defer { toldNot.stop() }
        for room in ["talk", "mute", "quiet"] { try server.waitLive(room) }
        XCTAssertEqual(try streams(server.url("talk")), ["h264", "opus"])
        XCTAssertEqual(try streams(server.url("mute")), ["h264"])
        XCTAssertEqual(try streams(server.url("quiet")), ["h264"])
    }

    func testAMissingInputIsNamedBeforeAnythingStarts() throws {
        let run = try runToEnd(chatcastProcess(["publish", "--dir", Paths.presets, "--preset", "file", "--input", dir + "/nothing.mp4",
                                                "--server", "irc://127.0.0.1:1", "--duration", "5"]), timeout: 30)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("nothing.mp4"), run.stderr)
    }

    /// `--host-rtsp`: the sound branch ends in an Opus payloader (pay1) beside pay0.
    func testAHostedFileStreamServesItsSound() throws {
        let talking = try clip("talk.mp4", sound: true)
        let server = try VideoServer()
        let hostPort = freePort()
        let host = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--preset", "file", "--input", talking, "--room", "stage", "--server", server.irc,
            "--host-rtsp", String(hostPort), "--host-bind", "127.0.0.1", "--announce-host", "127.0.0.1",
            "--set", "width=320", "--set", "height=240", "--duration", "30"]), name: "hosted")
        defer { host.stop() }
        XCTAssertTrue(waitForPort(hostPort), host.stderr)
        XCTAssertEqual(try streams("rtsp://127.0.0.1:\(hostPort)/stage"), ["h264", "opus"], host.stderr)
    }
}
