import Foundation
import XCTest

/// Chat written by chatinject into real x264 video comes back through files and other
/// people's software exactly as sent.
final class ChatRoundTripTests: XCTestCase {
    let lines = ["alice: hello there", #"{"nick":"bob","text":"json <i>x</i> ü"}"#, "carol: third"]

    /// Encodes 1.5 s of live test video with chatinject following a messages file.
    func record(mux: String, to path: String) throws {
        let messages = NSTemporaryDirectory() + "chatcast-messages-\(UUID().uuidString).txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: messages, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: messages) }
        let result = try gstLaunch(["videotestsrc", "is-live=true", "num-buffers=45", "!",
                                    "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "x264enc",
                                    "key-int-max=30", "tune=zerolatency", "!", "h264parse", "!", "chatinject",
                                    "messages-file=\(messages)", "!"] + mux.split(separator: " ").map(String.init)
                                   + ["!", "filesink", "location=\(path)"])
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func readBack(_ demux: String, from path: String) throws -> [[String: Any]] {
        let result = try gstLaunch(["filesrc", "location=\(path)", "!"] + demux.split(separator: " ").map(String.init)
                                   + ["!", "h264parse", "!", "chatparse", "!", "avdec_h264", "!", "fakesink"], messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        return jsonLines(result.stdout, element: "chatparse").filter { $0["type"] as? String == "chat" }
    }

    func testChatSurvivesMP4MatroskaAndMPEGTS() throws {
        for (mux, demux, ext) in [("mp4mux", "qtdemux", "mp4"), ("matroskamux", "matroskademux", "mkv"),
                                  ("mpegtsmux", "tsdemux", "ts")] {
            let path = NSTemporaryDirectory() + "chatcast-roundtrip.\(ext)"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try record(mux: mux, to: path)
            let chat = try readBack(demux, from: path)
            XCTAssertEqual(chat.map { $0["nick"] as? String }, ["alice", "bob", "carol"], ext)
            XCTAssertEqual(chat.map { $0["text"] as? String }, ["hello there", "json <i>x</i> ü", "third"], ext)
            XCTAssertEqual(Set(chat.compactMap { $0["id"] as? String }).count, 3, "\(ext): each message once")
        }
    }

    func testFFmpegSeesOurUUIDAndTextAndDecodesCleanly() throws {
        let path = NSTemporaryDirectory() + "chatcast-ffmpeg.mp4"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try record(mux: "mp4mux", to: path)
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-hide_banner", "-i", path, "-vf", "showinfo", "-f", "null", "-"]
        let err = Pipe()
        ffmpeg.standardError = err
        ffmpeg.standardOutput = FileHandle.nullDevice
        try ffmpeg.run()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ffmpeg.waitUntilExit()
        XCTAssertEqual(ffmpeg.terminationStatus, 0)
        XCTAssertTrue(log.contains("UUID=9f8ccd97-fb33-4dc7-a688-bc6dfa535d02"), log)
        // showinfo prints the payload as hex.
        let hex = Array("hello there".utf8).map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(log.contains(hex), "the text is not in ffmpeg's view of the SEI")
        XCTAssertFalse(log.lowercased().contains("error while decoding"), log)
    }
}
