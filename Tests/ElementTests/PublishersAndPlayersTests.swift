import Foundation
import ProcessSupport
import XCTest

/// Every publisher people run, played by every common player, at their default settings:
/// `chatcast publish`, GStreamer's rtspclientsink with sound, `ffmpeg -c copy` of a file with
/// B-frames and AAC, ffmpeg encoding live with libx264's defaults (parameter sets only in the
/// SDP, B-frames) and AAC, ffmpeg with libx265; each played by ffprobe, ffmpeg, rtspsrc
/// (playbin) and mpv over TCP and UDP (Tests/interop/rtsp_players.py), and refused codecs
/// told why.
final class PublishersAndPlayersTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "chatcast-players-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// mpv 0.35 says this about the first frame of any RTSP H.264 stream, whose first packet
    /// ffmpeg leaves untimed: a made-up rate, and one "Invalid video timestamp" where the time
    /// it made up for that frame meets the next one's. Stock gst-rtsp-server 1.22 serving a
    /// file gets the same lines; a stream whose times really step back gets one per step.
    private static func areMPVFirstFrameLines(_ lines: [String]) -> Bool {
        let invalid = lines.filter { $0.hasPrefix("Invalid video timestamp: ") }
        return invalid.count <= 1 && lines.allSatisfy { invalid.contains($0) || $0.hasPrefix("No video PTS! Making something up.") }
    }

    private func ffmpegProcess(_ arguments: [String]) -> Process {
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-hide_banner", "-loglevel", "error"] + arguments
        return ffmpeg
    }

    /// An MP4 as ffmpeg writes it by default: libx264 with B-frames, AAC sound.
    private func clipWithBFramesAndAAC(_ name: String, seconds: Int) throws -> String {
        let clip = dir + "/" + name
        let made = try runToEnd(ffmpegProcess(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine",
                                               "-t", String(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", clip]), timeout: 120)
        XCTAssertEqual(made.status, 0, made.stderr)
        return clip
    }

    /// Plays `room` with every player for 3 s of video and checks what each saw.
    private func assertEveryPlayerPlays(_ server: VideoServer, room: String, streams: [String],
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        run.arguments = [Paths.interop + "/rtsp_players.py", server.url(room), "3"]
        let out = try runToEnd(run, timeout: 400)
        XCTAssertEqual(out.status, 0, out.stderr, file: file, line: line)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: [String: Any]],
                                   out.stdout, file: file, line: line)
        func warnings(_ player: String) -> [String] { report[player]?["warnings"] as? [String] ?? ["no report"] }
        func number(_ player: String, _ key: String) -> Int { report[player]?[key] as? Int ?? -1 }
        XCTAssertEqual((report["ffprobe"]?["streams"] as? [String])?.sorted(), streams.sorted(), "ffprobe: \(report["ffprobe"] ?? [:])", file: file, line: line)
        XCTAssertEqual(warnings("ffprobe"), [], file: file, line: line)
        for transport in ["tcp", "udp"] {
            let ffmpeg = "ffmpeg-" + transport, rtspsrc = "rtspsrc-" + transport, mpv = "mpv-" + transport
            XCTAssertEqual(number(ffmpeg, "status"), 0, "\(ffmpeg): \(warnings(ffmpeg))", file: file, line: line)
            XCTAssertGreaterThanOrEqual(number(ffmpeg, "frames"), 60, "\(ffmpeg) decodes 3 s", file: file, line: line)
            XCTAssertEqual(warnings(ffmpeg), [], "\(ffmpeg) decodes without a complaint", file: file, line: line)
            XCTAssertGreaterThanOrEqual(number(rtspsrc, "video"), 30, "\(rtspsrc): \(report[rtspsrc] ?? [:])", file: file, line: line)
            if streams.count > 1 {
                XCTAssertGreaterThan(number(rtspsrc, "audio"), 0, "\(rtspsrc) plays the sound", file: file, line: line)
            }
            XCTAssertEqual(number(rtspsrc, "backwards"), 0, "\(rtspsrc): decoded times never step back", file: file, line: line)
            XCTAssertEqual(number(rtspsrc, "untimed"), 0, file: file, line: line)
            XCTAssertEqual(warnings(rtspsrc), [], file: file, line: line)
            XCTAssertEqual(number(mpv, "status"), 0, "\(mpv): \(warnings(mpv))", file: file, line: line)
            XCTAssertTrue(Self.areMPVFirstFrameLines(warnings(mpv)), "\(mpv): \(warnings(mpv))", file: file, line: line)
        }
    }

    func testChatcastPublishIsPlayedByEveryPlayerAndOursPrintsItsDetections() throws {
        let server = try VideoServer()
        let publisher = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--detect", "--server", server.irc, "--to", server.url("lobby"),
            "--set", "width=320", "--set", "height=240", "--duration", "120"]), name: "publish")
        defer { publisher.stop() }
        try server.waitLive("lobby")
        try assertEveryPlayerPlays(server, room: "lobby", streams: ["h264"])
        let viewer = try runToEnd(chatcastProcess(["play", server.url("lobby"), "--headless", "--duration", "4"]), timeout: 60)
        XCTAssertEqual(viewer.status, 0, viewer.stderr)
        XCTAssertGreaterThan(jsonObjects(viewer.stdout).filter { $0["type"] as? String == "detections" }.count, 30, viewer.stderr)
    }

    /// `chatcast publish --preset file` of an MP4 holding AAC: its sound goes out as Opus
    /// beside the picture, and every player plays both.
    func testChatcastPublishOfAFileWithSoundIsPlayedByEveryPlayer() throws {
        let clip = try clipWithBFramesAndAAC("talk.mp4", seconds: 120)
        let server = try VideoServer()
        let publisher = try Background(chatcastProcess([
            "publish", "--dir", Paths.presets, "--preset", "file", "--input", clip, "--server", server.irc, "--to", server.url("talk"),
            "--set", "width=320", "--set", "height=240", "--duration", "110"]), name: "publish-file")
        defer { publisher.stop() }
        try server.waitLive("talk")
        try assertEveryPlayerPlays(server, room: "talk", streams: ["h264", "opus"])
    }

    func testRtspclientsinkWithSoundIsPlayedByEveryPlayer() throws {
        let server = try VideoServer()
        let publisher = try Background(gstLaunchProcess([
            "rtspclientsink", "name=s", "location=\(server.url("gst"))",
            "videotestsrc", "is-live=true", "!", "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!",
            "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!", "s.",
            "audiotestsrc", "is-live=true", "!", "audioconvert", "!", "opusenc", "!", "s."]), name: "rtspclientsink")
        defer { publisher.stop() }
        try server.waitLive("gst")
        try assertEveryPlayerPlays(server, room: "gst", streams: ["h264", "opus"])
        // Ours takes the sound pad too (left unlinked, rtspsrc stopped with "not-linked" in
        // most starts).
        for start in 1...5 {
            let viewer = try runToEnd(chatcastProcess(["play", server.url("gst"), "--headless", "--duration", "2"]), timeout: 60)
            XCTAssertEqual(viewer.status, 0, "start \(start): \(viewer.stderr)")
        }
    }

    func testFFmpegCopyOfAFileWithBFramesAndAACIsPlayedByEveryPlayer() throws {
        let clip = try clipWithBFramesAndAAC("clip.mp4", seconds: 60)
        let server = try VideoServer()
        let publisher = try Background(ffmpegProcess(["-re", "-i", clip, "-c", "copy", "-f", "rtsp", server.url("copied")]),
                                       name: "ffmpeg-copy")
        defer { publisher.stop() }
        try server.waitLive("copied")
        try assertEveryPlayerPlays(server, room: "copied", streams: ["h264", "aac"])
    }

    /// ffmpeg encoding a test picture live (its default settings but for `encoder`) to `room`,
    /// then every player.
    private func assertLiveFFmpegIsPlayed(room: String, size: String, encoder: [String], sound: [String], streams: [String],
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let server = try VideoServer()
        let input = ["-re", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30"] + (sound.isEmpty ? [] : ["-f", "lavfi", "-i", "sine=sample_rate=48000"])
        let publisher = try Background(ffmpegProcess(input + encoder + ["-pix_fmt", "yuv420p"] + sound + ["-t", "120", "-f", "rtsp", server.url(room)]),
                                       name: "ffmpeg-" + room)
        defer { publisher.stop() }
        try server.waitLive(room)
        try assertEveryPlayerPlays(server, room: room, streams: streams, file: file, line: line)
    }

    /// A viewer that sets up only the video of a room with sound (players that want no sound
    /// do) plays, pauses and resumes: the track it left out is not fed into its media (that
    /// failed the media, and the resume got 503: found by the soak).
    func testAViewerOfTheVideoAloneOfARoomWithSoundPausesAndResumes() throws {
        let server = try VideoServer()
        let publisher = try Background(ffmpegProcess(["-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi",
                                                      "-i", "sine=sample_rate=48000", "-c:v", "libx264", "-g", "30", "-pix_fmt",
                                                      "yuv420p", "-c:a", "aac", "-t", "120", "-f", "rtsp", server.url("partial")]),
                                       name: "ffmpeg-partial")
        defer { publisher.stop() }
        try server.waitLive("partial")
        let run = try runToEnd(python([Paths.interop + "/rtsp_partial_setup.py", "127.0.0.1", String(server.rtspPort), "/partial", "3"]),
                               timeout: 60)
        let report = try XCTUnwrap(jsonObjects(run.stdout).first, run.stderr)
        XCTAssertEqual(report["tracks"] as? Int, 2, "a room with sound")
        XCTAssertEqual(report["setup"] as? Int, 200)
        XCTAssertEqual(report["plays"] as? [Int], [200, 200, 200], "play, then two resumes: \(report)")
        XCTAssertTrue((report["frames"] as? [Int] ?? []).allSatisfy { $0 > 10 }, "frames after each PLAY: \(report)")
    }

    /// The issue's own publisher: live libx264 at its defaults (SPS/PPS only in the SDP,
    /// B-frames) with AAC sound.
    func testFFmpegLiveX264DefaultsWithAACIsPlayedByEveryPlayer() throws {
        try assertLiveFFmpegIsPlayed(room: "a2", size: "640x360", encoder: ["-c:v", "libx264"], sound: ["-c:a", "aac"], streams: ["h264", "aac"])
    }

    /// A viewer of the issue's publisher (B-frames, AAC) that pauses and resumes, over TCP and
    /// UDP: after each resume the sound comes back at once and in sync — playbin's clock-synced
    /// sinks render sound and picture equally late, as before the pause — and no time steps
    /// back. The picture resumes at the publisher's next key frame (libx264's GOP is 250
    /// frames, so each stretch of playing lasts 9 s).
    func testPausedAndResumedViewersKeepSoundInSyncWithBFrames() throws {
        let server = try VideoServer()
        let publisher = try Background(ffmpegProcess([
            "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", "120", "-f", "rtsp", server.url("pausing")]), name: "ffmpeg-pausing")
        defer { publisher.stop() }
        try server.waitLive("pausing")
        for transport in ["tcp", "udp"] {
            let run = Process()
            run.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            run.arguments = [Paths.interop + "/rtsp_pause_sync.py", server.url("pausing"), transport, "2", "9"]
            let out = try runToEnd(run, timeout: 120)
            XCTAssertEqual(out.status, 0, out.stderr)
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], out.stdout)
            XCTAssertEqual(report["warnings"] as? [String], [], transport)
            let stretches = try XCTUnwrap(report["stretches"] as? [[String: Any]], out.stdout)
            XCTAssertEqual(stretches.count, 3, out.stdout)
            let before = try XCTUnwrap(stretches.first?["video_late_ms"] as? Double, out.stdout)
            for (index, stretch) in stretches.enumerated().dropFirst() {
                let label = "\(transport), after resume \(index): \(stretch)"
                XCTAssertGreaterThanOrEqual(stretch["video"] as? Int ?? 0, 15, label)
                XCTAssertGreaterThanOrEqual(stretch["audio"] as? Int ?? 0, 250, "the sound resumes at once: \(label)")
                XCTAssertEqual(stretch["backwards"] as? Int, 0, label)
                let video = try XCTUnwrap(stretch["video_late_ms"] as? Double, label), audio = try XCTUnwrap(stretch["audio_late_ms"] as? Double, label)
                XCTAssertEqual(audio, video, accuracy: 40, "sound in sync with the picture: \(label)")
                XCTAssertEqual(video, before, accuracy: 40, "no drift from before the pauses: \(label)")
            }
        }
    }

    func testFFmpegX265IsPlayedByEveryPlayer() throws {
        try assertLiveFFmpegIsPlayed(room: "hevc", size: "320x240", encoder: ["-c:v", "libx265"], sound: [], streams: ["hevc"])
    }

    /// MJPEG (a static payload type without rtpmap) and VP8 are refused with 415 and a reason
    /// that names the codec and what is taken; the room stays free for a good publisher.
    func testOtherCodecsAreRefusedNamingTheCodec() throws {
        let server = try VideoServer()
        for (codec, named) in [("mjpeg", "JPEG/90000"), ("libvpx", "VP8/90000")] {
            let refused = try runToEnd(ffmpegProcess(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2", "-c:v", codec,
                                                      "-f", "rtsp", server.url("odd")]), timeout: 60)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.stderr.contains("415 Unsupported Media Type: track 0 is video \(named); this server takes video H264 or H265"),
                          refused.stderr)
        }
        let publisher = try Background(ffmpegProcess([
            "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-c:v", "libx264", "-t", "60", "-f", "rtsp",
            server.url("odd")]), name: "ffmpeg-after-refusals")
        defer { publisher.stop() }
        try server.waitLive("odd")
    }
}
