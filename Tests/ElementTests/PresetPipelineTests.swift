import CGStreamer
import ChatCastPresets
import Foundation
import ProcessSupport
import XCTest

/// Every shipped preset names elements and properties that exist: its description builds a
/// pipeline (not started: publishers need a server).
final class PresetPipelineTests: XCTestCase {
    func testEveryPresetBuildsAPipeline() throws {
        _ = GStreamerOnce.ready
        let presets = try PresetLibrary.load(directory: Paths.repo.appendingPathComponent("pipelines").path)
        XCTAssertEqual(presets.count, 8)
        for preset in presets {
            var error: UnsafeMutablePointer<GError>?
            let sound = try preset.audioDescription(setting: preset.defaults.contains { $0.key == "audio-device" } ? ["audio-device": "hw:0"] : [:])
            let pipeline = gst_parse_launch([try preset.description(), sound].compactMap { $0 }.joined(separator: " "), &error)
            defer { if let pipeline { gst_object_unref(pipeline) } }
            XCTAssertNil(error.map { String(cString: $0.pointee.message) }, preset.name)
            XCTAssertNotNil(pipeline, preset.name)
            if let error { g_error_free(error) }
        }
    }
}

/// The camera preset's sound branch as shipped, its microphone (ALSA) and camera replaced by
/// test sources (no devices on a CI machine): the room gets the picture and Opus sound.
final class CameraSoundTests: XCTestCase {
    func testTheCamerasMicrophoneIsPublishedBesideThePicture() throws {
        let presets = try PresetLibrary.load(directory: Paths.repo.appendingPathComponent("pipelines").path)
        let camera = try XCTUnwrap(presets.first { $0.name == "publish-camera" })
        let server = try VideoServer()
        let values = ["width": "320", "height": "240", "audio-device": "hw:7", "url": server.url("cam"), "server": server.irc]
        var video = try camera.description(setting: values)
        video = video.replacingOccurrences(of: "v4l2src device=/dev/video0", with: "videotestsrc is-live=true pattern=ball")
        video = LaunchEdits.removing("swiftyolo", from: video)
        let sound = try XCTUnwrap(try camera.audioDescription(setting: values))
            .replacingOccurrences(of: "alsasrc device=hw:7", with: "audiotestsrc is-live=true")
        let publisher = try Background(gstLaunchProcess((video + " " + sound).split(separator: " ").map(String.init)), name: "camera")
        defer { publisher.stop() }
        try server.waitLive("cam")
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        probe.arguments = ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name", "-of", "csv=p=0", server.url("cam")]
        let out = try runToEnd(probe, timeout: 60)
        XCTAssertEqual(out.stdout.split(separator: "\n").map(String.init).sorted(), ["h264", "opus"], out.stderr + publisher.stderr)
    }
}

/// The camera preset takes what common webcams offer — YUY2, NV12, MJPEG, at their own size
/// and rate — without hand-written caps. The V4L2 source is replaced by a test source that
/// offers exactly one such format (no camera on a CI machine); the rest of the preset runs
/// as shipped, up to an H.264 file.
final class CameraPresetTests: XCTestCase {
    func testYUY2NV12AndMJPEGCamerasAreConvertedScaledAndRetimed() throws {
        let presets = try PresetLibrary.load(directory: Paths.repo.appendingPathComponent("pipelines").path)
        let camera = try XCTUnwrap(presets.first { $0.name == "publish-camera" })
        let shipped = try camera.description(setting: ["width": "320", "height": "240", "fps": "30"])
        XCTAssertTrue(shipped.hasPrefix("v4l2src device=/dev/video0 ! "), shipped)
        let webcams = [
            "YUY2 640x480@30": "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,format=YUY2,width=640,height=480,framerate=30/1",
            "NV12 1280x720@30": "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,format=NV12,width=1280,height=720,framerate=30/1",
            "MJPEG 640x480@15": "videotestsrc num-buffers=15 pattern=ball ! video/x-raw,width=640,height=480,framerate=15/1 ! jpegenc "
                + "! image/jpeg,width=640,height=480,framerate=15/1",
        ]
        for (name, source) in webcams.sorted(by: { $0.key < $1.key }) {
            let output = NSTemporaryDirectory() + "chatcast-camera-\(UUID().uuidString).h264"
            defer { try? FileManager.default.removeItem(atPath: output) }
            var line = shipped.replacingOccurrences(of: "v4l2src device=/dev/video0", with: source)
            line = LaunchEdits.removing("chatinject", from: line)  // no chat server here
            line = LaunchEdits.replacingLast(in: line, with: "video/x-h264,stream-format=byte-stream ! filesink location=\(output)")
            let run = try gstLaunch(["-e"] + line.split(separator: " ").map(String.init), timeout: 120)
            XCTAssertEqual(run.status, 0, "\(name): \(run.stderr.suffix(800))")
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
            probe.arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                               "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", output]
            let probed = try runToEnd(probe, timeout: 60)
            let fields = probed.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
            XCTAssertEqual(Array(fields.prefix(3)), ["h264", "320", "240"], "\(name): \(probed.stdout) \(probed.stderr)")
            XCTAssertGreaterThanOrEqual(Int(fields.last ?? "") ?? 0, 28, "\(name): one second of frames at 30 fps: \(probed.stdout)")
        }
    }
}
