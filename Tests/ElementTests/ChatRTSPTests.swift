import ChatCastRTSP
import Foundation
import XCTest

/// Chat and detections recorded into a clip come back exactly when the clip is served by
/// gst-rtsp-server and read by rtspsrc, over TCP and over UDP.
final class ChatRTSPTests: XCTestCase {
    /// Lines without `pts`: RTP carries its own clock, so only the content must match.
    func content(_ output: String) -> [String] {
        output.split(separator: "\n").filter { $0.hasPrefix("{\"type\"") }.map {
            String($0.replacingOccurrences(of: #","pts":(\d+|null)"#, with: "", options: .regularExpression))
        }
    }

    func testChatAndDetectionsSurviveAGstRTSPServerMountReadByRtspsrc() throws {
        let dir = NSTemporaryDirectory() + "chatcast-rtsp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let messages = dir + "/chat.txt", clip = dir + "/clip.mkv"
        try "alice: over rtsp\nbob: <b>still</b> plain ü\n".write(toFile: messages, atomically: true, encoding: .utf8)
        let record = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=60", "!",
                                    "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "swiftyolo", "!",
                                    "x264enc", "tune=zerolatency", "key-int-max=30", "!", "h264parse", "!", "chatinject",
                                    "messages-file=\(messages)", "from-start=true", "!", "matroskamux", "!", "filesink", "location=\(clip)"])
        XCTAssertEqual(record.status, 0, record.stderr)
        let reference = try gstLaunch(["filesrc", "location=\(clip)", "!", "matroskademux", "!", "h264parse", "!",
                                       "chatparse", "!", "chatsink"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = content(reference.stdout)
        XCTAssertEqual(expected.filter { $0.contains(#""type":"chat""#) }.count, 2)
        XCTAssertGreaterThan(expected.filter { $0.contains(#""label":"ball""#) }.count, 50, "the clip carries detections")

        var settings = RTSPServer.Settings()
        settings.port = 0
        let server = try RTSPServer(settings: settings)
        server.mount("/lobby", launch: "( filesrc location=\(clip) ! matroskademux ! h264parse ! rtph264pay name=pay0 pt=96 "
                     + "config-interval=-1 )", shared: false)
        try server.start()
        defer { server.stop() }
        XCTAssertGreaterThan(server.port, 0)
        for transport in ["tcp", "udp"] {
            // The viewer leaves before the clip ends: a teardown racing the server's own end
            // of stream makes 1.22's rtspsrc report a write error on an otherwise complete run.
            let viewer = try gstLaunch(["rtspsrc", "location=rtsp://127.0.0.1:\(server.port)/lobby", "protocols=\(transport)",
                                        "!", "rtph264depay", "!", "h264parse", "!", "identity", "eos-after=51", "!", "chatparse",
                                        "!", "chatsink"], timeout: 60)
            XCTAssertEqual(viewer.status, 0, viewer.stderr)
            let got = content(viewer.stdout)
            XCTAssertEqual(got.filter { $0.contains(#""type":"chat""#) }.count, 2, transport)
            XCTAssertGreaterThanOrEqual(got.filter { $0.contains(#""type":"detections""#) }.count, 40, transport)
            XCTAssertEqual(got, Array(expected.prefix(got.count)), transport)
        }
    }
}
