import Foundation
import ProcessSupport
import XCTest

/// `serve --record-dir` and `record: true` rooms: files written as the stream goes, that a
/// `kill -9` does not spoil, cut at the segment length, named by room and UTC start, replayed
/// with their chat by `chatcast play FILE` and read by ffprobe.
final class RecordingTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-recording-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func recordings(in folder: String, room: String) throws -> [String] {
        let pattern = try NSRegularExpression(pattern: "^\(room)-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\\.mkv$")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { pattern.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
            .sorted().map { folder + "/" + $0 }
    }

    /// ffprobe's codecs of a file, and the times of its first and last video packets.
    private func probe(_ file: String) throws -> (streams: [String], firstPacket: Double, lastPacket: Double, warnings: String) {
        let streams = Process()
        streams.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        streams.arguments = ["-v", "warning", "-show_entries", "stream=codec_name", "-of", "csv=p=0", file]
        let listed = try runToEnd(streams, timeout: 30)
        let packets = Process()
        packets.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        packets.arguments = ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time", "-of", "csv=p=0", file]
        let times = try runToEnd(packets, timeout: 30).stdout.split(separator: "\n").compactMap { Double($0) }
        return (listed.stdout.split(separator: "\n").map(String.init), times.min() ?? 0, times.max() ?? 0, listed.stderr)
    }

    func testARecordingSurvivesKillDashNineAndReplaysItsChatFrameAccurately() throws {
        let recorded = dir + "/recordings"
        let server = try VideoServer(extra: ["--record-dir", recorded])
        let publisher = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--detect", "--server", server.irc, "--to", server.url("lobby"),
            "--set", "width=320", "--set", "height=240", "--duration", "60"]), name: "publish")
        defer { publisher.stop() }
        try server.waitLive("lobby")
        let live = Date()
        XCTAssertTrue(server.log.contains("recording to \(recorded)"), server.log)
        let said = try runToEnd(chatcastProcess(["chat", "--server", server.irc, "--room", "lobby", "--nick", "rita"]),
                                input: "kept in the recording\n", timeout: 30)
        XCTAssertEqual(said.status, 0, said.stderr)
        Thread.sleep(forTimeInterval: 5)
        let ran = Date().timeIntervalSince(live)
        kill(server.background.process.processIdentifier, SIGKILL)
        server.background.process.waitUntilExit()

        let files = try recordings(in: recorded, room: "lobby")
        XCTAssertEqual(files.count, 1, "one file, named by room and UTC start: \(files)")
        let file = try XCTUnwrap(files.first)
        let probed = try probe(file)
        XCTAssertEqual(probed.streams, ["h264"], probed.warnings)
        XCTAssertLessThan(probed.firstPacket, 0.1, "the recording starts at its first key frame")
        XCTAssertGreaterThan(probed.lastPacket, ran - 1.5, "kill -9 lost at most about a second of \(ran) s")
        XCTAssertLessThan(probed.lastPacket, ran + 1)

        // The next start of the server gives the file the duration the killed one never wrote.
        let restarted = try VideoServer(extra: ["--record-dir", recorded])
        try eventually("the restarted server repairs the recording", timeout: 10) { restarted.log.contains("its duration (") }
        let length = Process()
        length.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        length.arguments = ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file]
        let seconds = try XCTUnwrap(Double(try runToEnd(length, timeout: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(seconds, probed.lastPacket, accuracy: 0.2, "ffprobe's duration is the recording's length")

        let replay = try runToEnd(chatcastProcess(["play", file, "--headless"]), timeout: 60)
        XCTAssertEqual(replay.status, 0, replay.stderr)
        let lines = jsonObjects(replay.stdout)
        XCTAssertTrue(lines.contains { $0["type"] as? String == "chat" && $0["text"] as? String == "kept in the recording" },
                      "the chat replays from the file: \(replay.stdout.prefix(800))")
        XCTAssertGreaterThan(lines.filter { $0["type"] as? String == "detections" }.count, 60, "every frame's detections")
        let chatTimes = lines.filter { $0["type"] as? String == "chat" }.compactMap { $0["pts"] as? Double }
        XCTAssertTrue(chatTimes.allSatisfy { $0 >= 0 && $0 <= probed.lastPacket * 1e9 }, "chat lines carry their frame's time: \(chatTimes)")
    }

    /// `record: true` rooms of a config file (and not the others), with sound, cut every 2 s.
    /// The sound starts a second after the picture, so the recording (and the room) begin
    /// before the sound track's first buffer has been seen.
    func testRecordTrueRoomsAreRecordedWithTheirSoundAndCutAtTheSegmentLength() throws {
        let config = dir + "/serve.yaml"
        let recorded = dir + "/cut"
        try """
        record-dir: \(recorded)
        record-segment-seconds: 2
        rooms:
          stage: {record: true}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try VideoServer(extra: ["--config", config])
        func publish(_ room: String) throws -> Background {
            let ffmpeg = Process()
            ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                "-itsoffset", "1", "-f", "lavfi", "-i", "sine", "-c:v", "libx264", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac",
                                "-t", "7", "-f", "rtsp", server.url(room)]
            return try Background(ffmpeg, name: "ffmpeg-" + room)
        }
        let stage = try publish("stage"), other = try publish("other")
        XCTAssertTrue(stage.finish(within: 30))
        XCTAssertTrue(other.finish(within: 30))
        try eventually("#stage ends", timeout: 20) { server.log.contains("#stage ended") }
        server.background.stop()  // SIGTERM: the last file is finished properly too

        let files = try recordings(in: recorded, room: "stage")
        XCTAssertGreaterThanOrEqual(files.count, 3, "7 s cut every 2 s: \(files)")
        XCTAssertEqual(try recordings(in: recorded, room: "other"), [], "only rooms marked record: true")
        var total = 0.0
        for file in files {
            let probed = try probe(file)
            XCTAssertEqual(probed.streams, ["h264", "aac"], "\(file): \(probed.warnings)")
            let length = probed.lastPacket - probed.firstPacket
            XCTAssertLessThan(length, 3.1, "\(file) is cut near 2 s")
            total += length
        }
        XCTAssertGreaterThan(total, 4.5, "the files hold the stream between them")
    }

    /// `--record-segment-megabytes`: a new file once one holds that much (at the next key frame).
    func testRecordingsAreCutAtTheSegmentSize() throws {
        let recorded = dir + "/sized"
        let server = try VideoServer(extra: ["--record-dir", recorded, "--record-segment-megabytes", "1"])
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                            "-c:v", "libx264", "-b:v", "4M", "-g", "15", "-pix_fmt", "yuv420p", "-t", "8", "-f", "rtsp", server.url("big")]
        let publisher = try Background(ffmpeg, name: "ffmpeg-big")
        XCTAssertTrue(publisher.finish(within: 40))
        try eventually("#big ends", timeout: 20) { server.log.contains("#big ended") }
        server.background.stop()

        let files = try recordings(in: recorded, room: "big")
        let sizes = try files.map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
        XCTAssertGreaterThanOrEqual(files.count, 3, "about 4 MB cut at 1 MB: \(sizes)")
        for (file, size) in zip(files, sizes) {
            XCTAssertLessThan(size, 1_600_000, "\(file) is cut soon after 1 MB")
            XCTAssertEqual(try probe(file).streams, ["h264"])
        }
        XCTAssertGreaterThan(sizes.reduce(0, +), 3_000_000, "the files hold the stream between them: \(sizes)")
    }
}
