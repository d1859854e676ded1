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
        let result = try gstLaunch(["videotestsrc", "pattern=ball", "is-live=true", "num-buffers=45", "!",
                                    "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "x264enc",
                                    "key-int-max=30", "tune=zerolatency", "!", "h264parse", "!", "chatinject",
                                    "messages-file=\(messages)", "from-start=true", "!"] + mux.split(separator: " ").map(String.init)
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

    func testPostMessagesFalseStopsElementMessagesButNotTheChat() throws {
        let path = NSTemporaryDirectory() + "chatcast-quiet.mkv", lines = NSTemporaryDirectory() + "chatcast-quiet.jsonl"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: lines)
        }
        try record(mux: "matroskamux", to: path)
        let result = try gstLaunch(["filesrc", "location=\(path)", "!", "matroskademux", "!", "h264parse", "!", "chatparse",
                                    "post-messages=false", "!", "chatsink", "location=\(lines)"], messages: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(jsonLines(result.stdout, element: "chatparse").count, 0, "no element messages")
        let printed = try String(contentsOfFile: lines, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(printed.filter { $0.hasPrefix("{\"type\":\"chat\"") }.count, 3, "chatsink still writes every message")
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

    func testChatSinkWritesTheJSONLinesToAFile() throws {
        let video = NSTemporaryDirectory() + "chatcast-sink.mkv", out = NSTemporaryDirectory() + "chatcast-sink.jsonl"
        defer { for p in [video, out] { try? FileManager.default.removeItem(atPath: p) } }
        try record(mux: "matroskamux", to: video)
        let result = try gstLaunch(["filesrc", "location=\(video)", "!", "matroskademux", "!", "h264parse", "!", "chatparse",
                                    "!", "chatsink", "location=\(out)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix(#"{"type":"chat","id":""#), lines[0])
        XCTAssertTrue(lines[0].contains(#""room":"lobby","nick":"alice","text":"hello there","time":""#), lines[0])
        XCTAssertTrue(lines[0].hasSuffix(#","pts":0}"#) || lines[0].range(of: #","pts":\d+\}$"#, options: .regularExpression) != nil, lines[0])
    }

    /// Detections found before the encoder ride the stream: swiftyolo → x264enc → chatinject
    /// → file → chatparse → chatsink.
    func testDetectionsSurviveTheEncoderAndTheFile() throws {
        let video = NSTemporaryDirectory() + "chatcast-det.ts"
        defer { try? FileManager.default.removeItem(atPath: video) }
        let record = try gstLaunch(["videotestsrc", "pattern=ball", "num-buffers=20", "!",
                                    "video/x-raw,format=I420,width=320,height=240", "!", "swiftyolo", "!", "x264enc",
                                    "tune=zerolatency", "!", "h264parse", "!", "chatinject", "!", "mpegtsmux", "!",
                                    "filesink", "location=\(video)"])
        XCTAssertEqual(record.status, 0, record.stderr)
        let play = try gstLaunch(["filesrc", "location=\(video)", "!", "tsdemux", "!", "h264parse", "!", "chatparse", "!",
                                  "chatsink"])
        XCTAssertEqual(play.status, 0, play.stderr)
        let lines = play.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        XCTAssertEqual(lines.count, 20)
        for line in lines {
            XCTAssertEqual(line["type"] as? String, "detections")
            XCTAssertEqual(line["width"] as? Int, 320)
            let objects = line["objects"] as? [[String: Any]] ?? []
            XCTAssertEqual(objects.count, 1)
            XCTAssertEqual(objects.first?["label"] as? String, "ball")
        }
    }

    /// RTP over UDP on loopback: rtph264pay fragments the SEI (FU-A) and the receiver
    /// reassembles it.
    func testChatSurvivesRTPOverUDP() throws {
        let port = Int.random(in: 20_000..<60_000)
        let out = NSTemporaryDirectory() + "chatcast-rtp-\(port).jsonl"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let receiver = try gstLaunchInBackground(["udpsrc", "address=127.0.0.1", "port=\(port)",
                              "caps=application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96", "!",
                              "rtpjitterbuffer", "!", "rtph264depay", "!", "h264parse", "!", "chatparse", "!", "chatsink",
                              "location=\(out)"])
        defer { if receiver.isRunning { receiver.terminate() }; receiver.waitUntilExit() }
        usleep(1_500_000)
        let messages = NSTemporaryDirectory() + "chatcast-rtp-messages-\(port).txt"
        let long = String(repeating: "long ", count: 90)  // a SEI larger than one RTP packet
        try "alice: over udp\nbob: \(long)\n".write(toFile: messages, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: messages) }
        let sender = try gstLaunch(["videotestsrc", "is-live=true", "num-buffers=45", "!",
                                    "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "x264enc",
                                    "tune=zerolatency", "key-int-max=15", "!", "h264parse", "!", "chatinject",
                                    "messages-file=\(messages)", "from-start=true", "!", "rtph264pay", "config-interval=-1", "mtu=400", "!",
                                    "udpsink", "host=127.0.0.1", "port=\(port)"])
        XCTAssertEqual(sender.status, 0, sender.stderr)
        usleep(1_000_000)
        let lines = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertTrue(lines.contains(#""nick":"alice","text":"over udp""#), lines)
        XCTAssertTrue(lines.contains(#""nick":"bob","text":"\#(long.trimmingCharacters(in: .whitespaces))""#), lines)
    }

    /// A relay decodes, detects and re-encodes: upstream chat crosses the decoder and the
    /// encoder as metas, chatinject carries it forward and adds the relay's detections.
    func testRelayCarriesChatForwardAndAddsDetections() throws {
        let source = NSTemporaryDirectory() + "chatcast-relay-in.mp4", relayed = NSTemporaryDirectory() + "chatcast-relay-out.mkv"
        defer { for p in [source, relayed] { try? FileManager.default.removeItem(atPath: p) } }
        try record(mux: "mp4mux", to: source)
        let relay = try gstLaunch(["filesrc", "location=\(source)", "!", "qtdemux", "!", "h264parse", "!", "chatparse", "!",
                                   "avdec_h264", "!", "videoconvert", "!", "swiftyolo", "!", "videoconvert", "!",
                                   "video/x-raw,format=I420", "!", "x264enc", "tune=zerolatency", "!", "h264parse", "!",
                                   "chatinject", "!", "matroskamux", "!", "filesink", "location=\(relayed)"])
        XCTAssertEqual(relay.status, 0, relay.stderr)
        let chat = try readBack("matroskademux", from: relayed)
        XCTAssertEqual(chat.map { $0["text"] as? String }, ["hello there", "json <i>x</i> ü", "third"])
        let play = try gstLaunch(["filesrc", "location=\(relayed)", "!", "matroskademux", "!", "h264parse", "!", "chatparse",
                                  "!", "chatsink"])
        let detections = play.stdout.split(separator: "\n").filter { $0.contains(#""type":"detections""#) }
        XCTAssertGreaterThanOrEqual(detections.count, 40)
        XCTAssertTrue(detections.allSatisfy { $0.contains(#""label":"ball""#) })
    }

    /// RTP over TCP (RFC 4571 framing). The viewer connects after the first frames left, so
    /// it only gets the chat because the recent messages repeat on every IDR frame.
    func testLateViewerOverRTPOnTCPGetsRecentChatFromTheNextIDR() throws {
        let port = Int.random(in: 20_000..<60_000)
        let messages = NSTemporaryDirectory() + "chatcast-tcp-messages-\(port).txt"
        try "alice: over tcp\n".write(toFile: messages, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: messages) }
        let sender = try gstLaunchInBackground(["videotestsrc", "is-live=true", "num-buffers=90", "!",
                            "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "x264enc", "tune=zerolatency",
                            "key-int-max=15", "!", "h264parse", "!", "chatinject", "messages-file=\(messages)", "from-start=true", "!",
                            "rtph264pay", "config-interval=-1", "!", "rtpstreampay", "!", "tcpserversink", "host=127.0.0.1",
                            "port=\(port)"])
        defer { if sender.isRunning { sender.terminate() }; sender.waitUntilExit() }
        usleep(700_000)
        let viewer = try gstLaunch(["tcpclientsrc", "host=127.0.0.1", "port=\(port)", "!",
                                    "application/x-rtp-stream,media=video,encoding-name=H264,clock-rate=90000,payload=96", "!",
                                    "rtpstreamdepay", "!", "rtph264depay", "!", "h264parse", "!", "chatparse", "!", "chatsink"],
                                   timeout: 20)
        XCTAssertTrue(viewer.stdout.contains(#""nick":"alice","text":"over tcp""#), viewer.stdout + viewer.stderr)
        XCTAssertEqual(viewer.stdout.components(separatedBy: "over tcp").count - 1, 1, "de-duplicated across IDR repeats")
    }
}

/// The envelope in H.265 (a prefix SEI): chatinject writes it into x265 video, chatparse reads
/// it back from a file and from `chatcast serve` over RTSP.
final class H265ChatTests: XCTestCase {
    private func messages(_ lines: [String]) throws -> String {
        let path = NSTemporaryDirectory() + "chatcast-h265-\(UUID().uuidString).txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private let encode = ["video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", "x265enc", "tune=zerolatency",
                          "speed-preset=ultrafast", "key-int-max=30", "!", "h265parse", "config-interval=-1", "!"]

    func testChatSurvivesAMatroskaFile() throws {
        let file = NSTemporaryDirectory() + "chatcast-h265-\(UUID().uuidString).mkv"
        let chat = try messages(["alice: in h265", "bob: second"])
        defer { [file, chat].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let written = try gstLaunch(["videotestsrc", "is-live=true", "num-buffers=45", "!"] + encode
                                    + ["chatinject", "messages-file=\(chat)", "from-start=true", "!", "matroskamux", "!", "filesink", "location=\(file)"])
        XCTAssertEqual(written.status, 0, written.stderr)
        let read = try gstLaunch(["filesrc", "location=\(file)", "!", "matroskademux", "!", "h265parse", "!", "chatparse", "!", "chatsink"])
        XCTAssertEqual(read.status, 0, read.stderr)
        XCTAssertEqual(jsonObjects(read.stdout).filter { $0["type"] as? String == "chat" }.map { $0["text"] as? String },
                       ["in h265", "second"], read.stdout)
    }

    func testChatSurvivesTheServerOverRTSP() throws {
        let server = try VideoServer()
        let chat = try messages((1...5).map { "carol: hevc \($0)" })
        defer { try? FileManager.default.removeItem(atPath: chat) }
        let publisher = try Background(gstLaunchProcess(["videotestsrc", "is-live=true", "num-buffers=900", "!"] + encode
                                       + ["chatinject", "messages-file=\(chat)", "from-start=true", "repeat-count=5", "!", "rtspclientsink",
                                          "location=\(server.url("hevc"))"]), name: "h265-publisher")
        defer { publisher.stop() }
        try server.waitLive("hevc")
        let viewer = try gstLaunch(["rtspsrc", "location=\(server.url("hevc"))", "!", "rtph265depay", "!", "h265parse", "!",
                                    "identity", "eos-after=60", "!", "chatparse", "!", "chatsink"], timeout: 60)
        assertViewerEnded(viewer, "h265 viewer")
        let texts = jsonObjects(viewer.stdout).filter { $0["type"] as? String == "chat" }.compactMap { $0["text"] as? String }
        XCTAssertFalse(texts.isEmpty, "the chat rides in H.265 through the server: \(viewer.stdout.prefix(500)) \(viewer.stderr)")
        XCTAssertTrue(texts.allSatisfy { $0.hasPrefix("hevc ") }, "\(texts)")
    }
}
